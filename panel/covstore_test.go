package panel

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// covValues returns n×c values whose column j is of kind j%4: small
// nonnegative integers, int16 integers, float64 values (with the special
// ones forcing float64 scattered in), and a column that is uint8 in its
// first chunk and float64 in later ones.
func covValues(rnd *rand.Rand, n, c int) []float64 {
	special := []float64{0.5, -1, 1e300, math.NaN(), math.Copysign(0, -1), math.Inf(1), 256, -32769, 32768, math.SmallestNonzeroFloat64}
	v := make([]float64, n*c)
	for i := 0; i < n; i++ {
		for j := 0; j < c; j++ {
			var x float64
			switch j % 4 {
			case 0:
				x = float64(rnd.IntN(256))
			case 1:
				x = float64(rnd.IntN(65536) - 32768)
			case 2:
				x = rnd.NormFloat64()
				if rnd.IntN(10) == 0 {
					x = special[rnd.IntN(len(special))]
				}
			case 3:
				x = float64(rnd.IntN(2))
				if i >= CovChunk && i%97 == 0 {
					x = special[rnd.IntN(len(special))]
				}
			}
			v[i*c+j] = x
		}
	}
	return v
}

func sameBits(a, b float64) bool { return math.Float64bits(a) == math.Float64bits(b) }

func TestCovStoreRoundTrip(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 2, CovChunk - 1, CovChunk, CovChunk + 1, 2*CovChunk + 5} {
		for _, c := range []int{1, 4, 7} {
			v := covValues(rnd, n, c)
			var d *mat.Dense
			if n > 0 {
				d = mat.NewDense(n, c, v)
			}
			var s *CovStore
			if n > 0 {
				s = NewCovStore(d)
			} else {
				s = newCovStore(0, c)
			}
			if r, cc := s.Dims(); r != n || cc != c {
				t.Fatalf("n=%d c=%d: Dims %d×%d", n, c, r, cc)
			}
			for i := 0; i < n; i++ {
				for j := 0; j < c; j++ {
					if got := s.At(i, j); !sameBits(got, v[i*c+j]) {
						t.Fatalf("n=%d c=%d: At(%d,%d) = %v, want %v", n, c, i, j, got, v[i*c+j])
					}
				}
			}
			for j := 0; j < c; j++ {
				col := s.Col(nil, j)
				for i := range col {
					if !sameBits(col[i], v[i*c+j]) {
						t.Fatalf("n=%d c=%d: Col(%d)[%d] = %v, want %v", n, c, j, i, col[i], v[i*c+j])
					}
				}
			}
			ranges := [][2]int{{0, n}, {0, 0}, {n, n}}
			for r := 0; r < 20 && n > 0; r++ {
				lo := rnd.IntN(n + 1)
				ranges = append(ranges, [2]int{lo, lo + rnd.IntN(n-lo+1)})
			}
			if n > CovChunk {
				ranges = append(ranges, [2]int{CovChunk - 1, CovChunk + 1}, [2]int{CovChunk, n})
			}
			for _, lh := range ranges {
				lo, hi := lh[0], lh[1]
				dst := make([]float64, (hi-lo)*c+1)
				dst[len(dst)-1] = 42
				s.Rows(dst, lo, hi)
				for k := range dst[:len(dst)-1] {
					if want := v[lo*c+k]; !sameBits(dst[k], want) {
						t.Fatalf("n=%d c=%d: Rows(%d,%d)[%d] = %v, want %v", n, c, lo, hi, k, dst[k], want)
					}
				}
				if dst[len(dst)-1] != 42 {
					t.Fatalf("Rows(%d,%d) wrote past its rows", lo, hi)
				}
			}
			if n > 0 {
				tr := s.T()
				if r, cc := tr.Dims(); r != c || cc != n || !sameBits(tr.At(c-1, n-1), d.At(n-1, c-1)) {
					t.Errorf("n=%d c=%d: T is %d×%d or its last value differs", n, c, r, cc)
				}
			}
		}
	}
}

// TestCovStoreKinds checks that each chunk column takes the narrowest
// exact type, so that the memory figures of the doc hold.
func TestCovStoreKinds(t *testing.T) {
	cases := []struct {
		v    float64
		kind uint8
	}{
		{0, kindU8}, {1, kindU8}, {255, kindU8}, {256, kindI16}, {-1, kindI16},
		{-32768, kindI16}, {32767, kindI16}, {32768, kindF64}, {-32769, kindF64},
		{0.5, kindF64}, {math.Copysign(0, -1), kindF64}, {math.NaN(), kindF64},
		{math.Inf(-1), kindF64}, {1e300, kindF64},
	}
	for _, tc := range cases {
		s := NewCovStore(mat.NewDense(3, 2, []float64{0, 1, tc.v, 2, 0, 3}))
		if k := s.chunks[0].kind[0]; k != tc.kind {
			t.Errorf("%v: kind %d, want %d", tc.v, k, tc.kind)
		}
		if k := s.chunks[0].kind[1]; k != kindU8 {
			t.Errorf("%v: other column kind %d, want uint8", tc.v, k)
		}
		if got := s.At(1, 0); !sameBits(got, tc.v) {
			t.Errorf("At = %v, want %v", got, tc.v)
		}
	}
}

func TestCovStorePanics(t *testing.T) {
	s := NewCovStore(mat.NewDense(2, 2, []float64{1, 2, 3, 4}))
	for name, f := range map[string]func(){
		"At row":    func() { s.At(2, 0) },
		"At col":    func() { s.At(0, -1) },
		"Rows hi":   func() { s.Rows(make([]float64, 8), 0, 3) },
		"Rows lo":   func() { s.Rows(make([]float64, 8), 2, 1) },
		"Rows dst":  func() { s.Rows(make([]float64, 3), 0, 2) },
		"Col range": func() { s.Col(nil, 2) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

func TestCovStoreSlice(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	n, c := CovChunk+300, 5
	v := covValues(rnd, n, c)
	d := mat.NewDense(n, c, v)
	s := NewCovStore(d)
	for _, b := range [][4]int{{0, n, 0, c}, {7, CovChunk + 9, 0, c}, {7, CovChunk + 9, 1, 4}} {
		got := s.Slice(b[0], b[1], b[2], b[3]).(*CovSlice)
		want := d.Slice(b[0], b[1], b[2], b[3])
		r, cc := want.Dims()
		if gr, gc := got.Dims(); gr != r || gc != cc {
			t.Fatalf("%v: Dims %d×%d, want %d×%d", b, gr, gc, r, cc)
		}
		buf := make([]float64, r*cc)
		got.Rows(buf, 0, r)
		for i := 0; i < r; i++ {
			for j := 0; j < cc; j++ {
				if !sameBits(got.At(i, j), want.At(i, j)) || !sameBits(buf[i*cc+j], want.At(i, j)) {
					t.Fatalf("%v: (%d,%d) = %v / %v, want %v", b, i, j, got.At(i, j), buf[i*cc+j], want.At(i, j))
				}
			}
		}
	}
}

// TestCovSliceSlice: a view of a view reads as the same block of the
// Dense, with At and with Rows over blocks of rows across chunks.
func TestCovSliceSlice(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 5))
	n, c := 2*CovChunk+77, 6
	d := mat.NewDense(n, c, covValues(rnd, n, c))
	s := NewCovStore(d)
	outer := s.Slice(5, n-3, 1, 6).(*CovSlice)
	for _, b := range [][4]int{{0, n - 8, 0, 5}, {100, 2*CovChunk + 50, 1, 4}, {CovChunk - 5, CovChunk + 5, 2, 3}, {3, 4, 4, 5}} {
		got := outer.Slice(b[0], b[1], b[2], b[3]).(*CovSlice)
		want := d.Slice(5+b[0], 5+b[1], 1+b[2], 1+b[3])
		r, cc := want.Dims()
		if gr, gc := got.Dims(); gr != r || gc != cc {
			t.Fatalf("%v: Dims %d×%d, want %d×%d", b, gr, gc, r, cc)
		}
		buf := make([]float64, 300*cc)
		for lo := 0; lo < r; lo += 300 {
			hi := min(r, lo+300)
			got.Rows(buf, lo, hi)
			for i := lo; i < hi; i++ {
				for j := 0; j < cc; j++ {
					if !sameBits(got.At(i, j), want.At(i, j)) || !sameBits(buf[(i-lo)*cc+j], want.At(i, j)) {
						t.Fatalf("%v: (%d,%d) = %v / %v, want %v", b, i, j, got.At(i, j), buf[(i-lo)*cc+j], want.At(i, j))
					}
				}
			}
		}
	}
	for _, b := range [][4]int{{0, n, 0, 1}, {0, 1, 0, 6}, {-1, 1, 0, 1}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Slice%v did not panic", b)
				}
			}()
			outer.Slice(b[0], b[1], b[2], b[3])
		}()
	}
}
