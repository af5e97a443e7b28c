package bench

import (
	"math"
	"sort"
)

// Stat summarises repeated measurements of one quantity.
type Stat struct {
	N      int     `json:"n"`
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	// P25 and P75 bound the middle half (the spread reported beside the
	// median).
	P25 float64 `json:"p25"`
	P75 float64 `json:"p75"`
}

// Summarize returns the Stat of values (the zero Stat for none).
func Summarize(values []float64) Stat {
	if len(values) == 0 {
		return Stat{}
	}
	v := append([]float64(nil), values...)
	sort.Float64s(v)
	return Stat{
		N:      len(v),
		Median: quantile(v, 0.5),
		Min:    v[0],
		Max:    v[len(v)-1],
		P25:    quantile(v, 0.25),
		P75:    quantile(v, 0.75),
	}
}

// quantile interpolates linearly between the closest ranks of sorted.
func quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 1 {
		return sorted[0]
	}
	pos := q * float64(len(sorted)-1)
	lo := int(math.Floor(pos))
	hi := int(math.Ceil(pos))
	frac := pos - float64(lo)
	return sorted[lo] + (sorted[hi]-sorted[lo])*frac
}

// Ratio is the Stat of a/b for measurements paired by repeat (a[i] and b[i]
// taken in the same repeat); pairs with b[i] == 0 are skipped.
func Ratio(a, b []float64) Stat {
	var r []float64
	for i := 0; i < len(a) && i < len(b); i++ {
		if b[i] != 0 {
			r = append(r, a[i]/b[i])
		}
	}
	return Summarize(r)
}

func sortFloats(v []float64) { sort.Float64s(v) }
