package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/term"
)

// progress shows, on a terminal only, how far a long job has gone: the stage, bytes read out of
// the total, and the speed. On anything else (a pipe, a CI log) it stays silent.
type progress struct {
	w     io.Writer
	total int64
	read  atomic.Int64
	stage atomic.Value
	start time.Time
	stop  chan struct{}
	done  sync.WaitGroup
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func newProgress(w io.Writer, total int64) *progress {
	p := &progress{w: w, total: total, start: time.Now(), stop: make(chan struct{})}
	p.stage.Store("starting")
	if !isTerminal(w) {
		return p
	}
	p.done.Add(1)
	go func() {
		defer p.done.Done()
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				p.draw()
				fmt.Fprintln(p.w)
				return
			case <-t.C:
				p.draw()
			}
		}
	}()
	return p
}

func (p *progress) draw() {
	n := p.read.Load()
	secs := time.Since(p.start).Seconds()
	line := fmt.Sprintf("\r%-10s %8.1f MB", p.stage.Load(), float64(n)/1e6)
	if p.total > 0 {
		line += fmt.Sprintf(" / %.1f MB (%3.0f%%)", float64(p.total)/1e6, 100*float64(n)/float64(p.total))
	}
	if secs > 0 {
		line += fmt.Sprintf("  %5.1f MB/s  %4.0fs", float64(n)/1e6/secs, secs)
	}
	fmt.Fprintf(p.w, "%-78s", line)
}

// Stage records the stage the job has reached.
func (p *progress) Stage(s string) { p.stage.Store(s) }

// Reader counts what is read through it.
func (p *progress) Reader(r io.Reader) io.Reader { return &countingReader{r: r, n: &p.read} }

// Close stops the display.
func (p *progress) Close() {
	select {
	case <-p.stop:
	default:
		close(p.stop)
	}
	p.done.Wait()
}

type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n.Add(int64(n))
	return n, err
}
