//go:build race

package sanctions

// raceEnabled is true under the race detector, which slows the matcher about tenfold: the recall
// report then samples its queries (the full report runs in make bench, without it).
const raceEnabled = true
