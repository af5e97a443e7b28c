package bench

import "testing"

func TestSummarize(t *testing.T) {
	tests := []struct {
		name string
		in   []float64
		want Stat
	}{
		{"empty", nil, Stat{}},
		{"one", []float64{3}, Stat{N: 1, Median: 3, Min: 3, Max: 3, P25: 3, P75: 3}},
		{"odd unsorted", []float64{5, 1, 3}, Stat{N: 3, Median: 3, Min: 1, Max: 5, P25: 2, P75: 4}},
		{"even", []float64{1, 2, 3, 4}, Stat{N: 4, Median: 2.5, Min: 1, Max: 4, P25: 1.75, P75: 3.25}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Summarize(tt.in); got != tt.want {
				t.Errorf("Summarize(%v) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestSummarizeKeepsInput(t *testing.T) {
	in := []float64{3, 1, 2}
	Summarize(in)
	if in[0] != 3 || in[1] != 1 || in[2] != 2 {
		t.Errorf("Summarize reordered its input: %v", in)
	}
}

func TestRatioPairsByRepeat(t *testing.T) {
	got := Ratio([]float64{10, 20, 30}, []float64{1, 0, 3})
	want := Stat{N: 2, Median: 10, Min: 10, Max: 10, P25: 10, P75: 10}
	if got != want {
		t.Errorf("Ratio = %+v, want %+v (the pair with b == 0 skipped)", got, want)
	}
}
