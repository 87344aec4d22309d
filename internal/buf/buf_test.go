package buf

import "testing"

func TestResize(t *testing.T) {
	s := make([]int, 3, 10)
	r := Resize(s, 8)
	if len(r) != 8 || &r[0] != &s[0] {
		t.Errorf("within capacity: len %d, same array %v", len(r), &r[0] == &s[0])
	}
	r = Resize(s, 11)
	if len(r) != 11 || cap(r) != 11 || &r[0] == &s[0] {
		t.Errorf("beyond capacity: len %d cap %d, want a new array of exactly 11", len(r), cap(r))
	}
	if len(Resize[float64](nil, 0)) != 0 {
		t.Error("nil, 0")
	}
}
