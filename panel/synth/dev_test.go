package synth

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"
)

func TestDevProfile(t *testing.T) {
	sc, _ := strconv.ParseFloat(os.Getenv("DEV_SCALE"), 64)
	if sc == 0 {
		t.Skip()
	}
	cf, _ := strconv.ParseFloat(os.Getenv("DEV_CF"), 64)
	t0 := time.Now()
	p, err := Generate(context.Background(), &Options{Scale: sc, ControlFraction: cf, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("generated %d persons in %v, %d spells", p.Register.N(), time.Since(t0), len(p.Register.Spells))
	if err := p.Register.Validate(); err != nil {
		t.Fatal(err)
	}
	tr, pop, err := p.Profiles()
	if err != nil {
		t.Fatal(err)
	}
	tr.Write(os.Stdout)
	pop.Write(os.Stdout)
	SpellProfile(&p.Register, sc).Write(os.Stdout)
}
