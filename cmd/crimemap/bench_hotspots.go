package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"text/tabwriter"
	"time"

	"github.com/crimemap/crimemap/analytics/hotspot"
)

// Hot spot benchmark targets (issue "Hotspot statistics analysts can
// trust", on a 2-core machine).
const (
	targetGiStar100k     = 200 * time.Millisecond // Gi* + FDR, 100,000 H3 cells
	targetEmerging24x50k = 3 * time.Second        // emerging hot spots, 24 monthly steps x 50,000 cells
	hotspotRuns          = 5                      // timed runs after one warm-up; the median is reported
	hotspotSeed          = 1
)

// hotspotBench is one row of the hot spot benchmark table.
type hotspotBench struct {
	name   string
	bins   int // cells x steps
	took   time.Duration
	target time.Duration
}

// benchHotspots times Gi* with FDR over 100,000 H3 cells and the emerging
// hot spot analysis over 24 monthly steps x 50,000 cells on synthetic
// counts (hotspot.SyntheticCube: res 9 cells around Qarshi, Poisson noise
// and twenty hot spots, half growing), with the neighbour search (H3 grid
// disks) included, for k=1 and the res-9 default k, and prints a table.
func benchHotspots(ctx context.Context, w io.Writer) error {
	fmt.Fprintf(w, "\nhot spot benchmark: synthetic counts on res 9 H3 cells (hotspot.SyntheticCube, seed %d), GOMAXPROCS %d, median of %d runs\n",
		hotspotSeed, runtime.GOMAXPROCS(0), hotspotRuns)
	cells, counts := hotspot.SyntheticCube(100_000, 1, hotspotSeed)
	ecells, ecounts := hotspot.SyntheticCube(50_000, 24, hotspotSeed)
	var rows []hotspotBench
	for _, k := range []int{1, hotspot.DefaultK(9)} {
		if err := ctx.Err(); err != nil {
			return err
		}
		d, err := medianTime(hotspotRuns, func() error {
			_, err := hotspot.GiStarCells(ctx, cells, counts[0], k)
			return err
		})
		if err != nil {
			return fmt.Errorf("gi* benchmark: %w", err)
		}
		rows = append(rows, hotspotBench{name: fmt.Sprintf("Gi* + FDR, 100,000 cells, k=%d", k), bins: len(cells), took: d, target: targetGiStar100k})
	}
	for _, k := range []int{1, hotspot.DefaultK(9)} {
		if err := ctx.Err(); err != nil {
			return err
		}
		d, err := medianTime(hotspotRuns, func() error {
			_, err := hotspot.EmergingCells(ctx, ecells, ecounts, k, hotspot.DefaultAlpha)
			return err
		})
		if err != nil {
			return fmt.Errorf("emerging benchmark: %w", err)
		}
		rows = append(rows, hotspotBench{name: fmt.Sprintf("emerging, 24 months x 50,000 cells, k=%d", k), bins: len(ecells) * len(ecounts), took: d, target: targetEmerging24x50k})
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "analysis\tbins\tms\ttarget ms\tmet\t")
	for _, r := range rows {
		met := "yes"
		if r.took > r.target {
			met = "NO"
		}
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.0f\t%s\t\n", r.name, r.bins, float64(r.took.Microseconds())/1000, float64(r.target.Milliseconds()), met)
	}
	return tw.Flush()
}
