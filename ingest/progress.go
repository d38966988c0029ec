package ingest

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/mattn/go-isatty"
)

// Progress is a snapshot of a running import, given to Options.Progress.
type Progress struct {
	BytesRead  int64 // bytes consumed from the source
	TotalBytes int64 // Options.TotalBytes (0 when unknown)
	Rows       int   // rows read so far
	Accepted   int
	Rejected   int
	Elapsed    time.Duration
	Done       bool // the last call of a run
}

// ProgressBar draws a one-line progress bar on a terminal: bytes read /
// total and rows per second. It draws nothing unless its file is a terminal
// and the run has lasted more than a second. Use its Update method as
// Options.Progress.
type ProgressBar struct {
	w       io.Writer
	enabled bool
	drawn   bool
	last    time.Duration
	width   int
}

// NewProgressBar returns a bar drawing on f (normally os.Stderr) when f is a
// terminal; otherwise a bar that draws nothing.
func NewProgressBar(f *os.File) *ProgressBar {
	tty := f != nil && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
	return newProgressBar(f, tty)
}

func newProgressBar(w io.Writer, enabled bool) *ProgressBar {
	return &ProgressBar{w: w, enabled: enabled, width: 30}
}

// Update redraws the bar (at most 10 times a second) and ends the line when
// p.Done.
func (b *ProgressBar) Update(p Progress) {
	if !b.enabled || (p.Elapsed < time.Second && !b.drawn) {
		return
	}
	if !p.Done && b.drawn && p.Elapsed-b.last < 100*time.Millisecond {
		return
	}
	b.last = p.Elapsed
	b.drawn = true
	rate := float64(p.Rows) / max(p.Elapsed.Seconds(), 1e-9)
	line := ""
	if p.TotalBytes > 0 {
		frac := min(float64(p.BytesRead)/float64(p.TotalBytes), 1)
		n := int(frac * float64(b.width))
		bar := make([]byte, b.width)
		for i := range bar {
			bar[i] = ' '
			if i < n {
				bar[i] = '='
			}
		}
		line = fmt.Sprintf("[%s] %3.0f%% %s / %s", bar, frac*100, humanBytes(p.BytesRead), humanBytes(p.TotalBytes))
	} else {
		line = humanBytes(p.BytesRead)
	}
	fmt.Fprintf(b.w, "\r%s  %d rows  %.0f rows/s  %d rejected\x1b[K", line, p.Rows, rate, p.Rejected)
	if p.Done {
		fmt.Fprintln(b.w)
	}
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
