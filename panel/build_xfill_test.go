package panel

import (
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
)

// xFillValues are values that sit on the edges of the kinds of a
// CovStore chunk column.
var xFillValues = []float64{0, 1, 2, 254, 255, 256, -1, -128, 32767, 32768, -32768, -32769,
	0.5, -0.5, math.Copysign(0, -1), 1e300, -1e-300, 7, 100, 1000}

// TestXFillMatchesPack compares the chunks xFill stages with those of
// CovStore.pack on the same rows: random columns of small integers,
// int16 and float64 values, widened at random rows (first, last, at and
// across tile boundaries), and chunks of 1 to CovChunk rows.
func TestXFillMatchesPack(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := range 300 {
		nx := 1 + rng.IntN(12)
		nr := 1 + rng.IntN(CovChunk)
		switch trial % 5 {
		case 0:
			nr = CovChunk
		case 1:
			nr = 1 + rng.IntN(3*xTileRows)
		}
		rows := make([]float64, nr*nx)
		for j := range nx {
			// column j: u8 values, with from row at a value of another kind
			base := rng.IntN(3)
			for i := range nr {
				var v float64
				switch base {
				case 0:
					v = float64(rng.IntN(2))
				case 1:
					v = float64(rng.IntN(256))
				default:
					v = float64(rng.IntN(200))
				}
				rows[i*nx+j] = v
			}
			for range rng.IntN(4) {
				var at int
				switch rng.IntN(4) {
				case 0:
					at = 0
				case 1:
					at = nr - 1
				case 2:
					at = min(nr-1, xTileRows*rng.IntN(nr/xTileRows+1))
				default:
					at = rng.IntN(nr)
				}
				rows[at*nx+j] = xFillValues[rng.IntN(len(xFillValues))]
			}
		}
		want := newCovStore(nr, nx)
		want.pack(0, rows)
		got := newCovStore(nr, nx)
		f := newXFill(nx)
		if trial%7 == 0 { // a used fill, as a worker's for its next chunk
			for range 100 {
				copy(f.next(), rows[:nx])
				if f.full() {
					f.flush()
				}
			}
			f.finish(newCovStore(CovChunk, nx), 0)
		}
		for i := range nr {
			copy(f.next(), rows[i*nx:(i+1)*nx])
			if f.full() {
				f.flush()
			}
		}
		f.finish(got, 0)
		if !reflect.DeepEqual(got.chunks[0], want.chunks[0]) {
			t.Fatalf("trial %d (%d rows × %d): chunk %+v, pack gives %+v", trial, nr, nx, got.chunks[0].kind, want.chunks[0].kind)
		}
	}
}

// TestXFillBad checks that flush flags NaN and ±Inf in any kind of
// column and firstBad finds the first in row-major order.
func TestXFillBad(t *testing.T) {
	for _, bad := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		for _, first := range []float64{0, 300, 0.5} {
			f := newXFill(3)
			for i := range 10 {
				r := f.next()
				r[0], r[1], r[2] = first, float64(i), 1
			}
			f.tile[7*3+2] = bad
			f.tile[8*3+0] = bad
			f.flush()
			if !f.bad {
				t.Fatalf("%v after %v: not flagged", bad, first)
			}
			if i, j := f.firstBad(10); i != 7 || j != 2 {
				t.Fatalf("%v after %v: firstBad = %d, %d, want 7, 2", bad, first, i, j)
			}
		}
	}
	f := newXFill(2)
	for range 5 {
		r := f.next()
		r[0], r[1] = 1e300, -3
	}
	f.flush()
	if f.bad {
		t.Fatal("finite values flagged")
	}
}
