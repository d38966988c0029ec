package tiles

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/crimemap/crimemap/analytics"
	"github.com/crimemap/crimemap/analytics/disclose"
	"github.com/crimemap/crimemap/analytics/hotspot"
	"github.com/crimemap/crimemap/geo"
	"github.com/paulmach/orb/geojson"
)

// Public tiles (Params.Public: a request without an analyst token) are
// made only through Config.Disclose, the one package that makes public
// answers (see analytics/disclose): the same lattice (closed months,
// quarters, half-years and years; one kind or one public category group;
// H3 resolutions up to disclose.MaxRes over fixed cell sets) and the same
// cell-key perturbation as the JSON routes, so every unit and cell shows
// the same published value in a tile, at every zoom, and in JSON.

// checkPublic refuses a public request outside the lattice at now: the
// events layer, a period that is not closed or not a calendar period,
// unions of kinds or categories, a sensitive category by name. Errors wrap
// disclose.ErrNotPublic with disclose's message (what an analyst token
// unlocks, when a period is published).
func (r *Renderer) checkPublic(req Request, now time.Time) error {
	for _, l := range req.Layers {
		if l == LayerEvents {
			return fmt.Errorf("the events layer (raw events) needs an analyst token: %w", disclose.ErrNotPublic)
		}
	}
	if err := r.pub.CheckPeriod(req.Params.Period, now); err != nil {
		return err
	}
	if _, err := r.pub.CheckFilter(req.Params.publicFilter()); err != nil {
		return err
	}
	return nil
}

// publicHexbinFeatures draws the published counts of the public H3 cells
// (Discloser.RegionCells at the zoom's resolution, at most
// disclose.MaxRes) whose centres the tile owns: the candidate set depends
// on the boundaries only, never on the data (Discloser.RegionCellsIn
// finds them by their centres). Cells whose count is withheld are not
// drawn.
func (r *Renderer) publicHexbinFeatures(ctx context.Context, snap *analytics.Snapshot, gs *geomSet, f tileFrame, p Params) ([]*geojson.Feature, error) {
	res := min(HexResolution(f.z), disclose.MaxRes)
	regions, err := gs.level(ctx, geo.LevelRegion, r.cfg.Boundaries)
	if err != nil {
		return nil, err
	}
	if !regions.has {
		return nil, nil // no region boundaries: no public cells
	}
	// The fixed public cells whose centres the tile owns.
	near, centres, err := r.pub.RegionCellsIn(ctx, snap, res, f.lonLatBound(0).Pad(1e-9))
	if err != nil {
		return nil, err
	}
	var cells []uint64
	for i, c := range near {
		if owns(f.localLL(centres[i][0], centres[i][1])) {
			cells = append(cells, c)
		}
	}
	if len(cells) == 0 {
		return nil, nil
	}
	pubs, err := r.pub.Cells(ctx, snap, res, p.Period, p.publicFilter(), cells, r.cfg.Now())
	if err != nil {
		return nil, err
	}
	fs := make([]*geojson.Feature, 0, len(cells))
	for i, c := range cells {
		// Only cells with a published count are drawn: a withheld cell
		// says less than its interval in /v1/hexbins (never more), the map
		// reads "no hexagon: fewer than K", and tiles stay small.
		if pubs[i].Bounds.Withheld {
			continue
		}
		if feat := cellFeature(c, f); feat != nil {
			n, b := pubs[i].Count()
			cellCountProps(feat.Properties, n, b)
			fs = append(fs, feat)
		}
	}
	return fs, nil
}

// publicHotspotCells is Gi* over the published values of the fixed public
// cells of a district (Discloser.UnitCells; Published.Value, which the
// intervals reveal anyway, so withheld cells count too), or nil when the
// analysis would not be meaningful there (fewer than hotspot.MinCells
// cells, published values summing to less than hotspot.MinEvents, or
// GiStarCells refusing). Counts never appear in the reasons, which are
// dropped anyway.
func (r *Renderer) publicHotspotCells(ctx context.Context, snap *analytics.Snapshot, district string, res int, p Params) ([]hotCell, error) {
	cells, err := r.pub.UnitCells(ctx, district, res)
	if err != nil {
		return nil, err
	}
	if len(cells) < hotspot.MinCells {
		return nil, nil
	}
	pubs, err := r.pub.Cells(ctx, snap, res, p.Period, p.publicFilter(), cells, r.cfg.Now())
	if err != nil {
		return nil, err
	}
	values := make([]int64, len(pubs))
	var sum int64
	for i, v := range pubs {
		values[i] = v.Value
		sum += v.Value
	}
	if sum < hotspot.MinEvents {
		return nil, nil
	}
	hc, err := hotspot.GiStarCells(ctx, cells, values, hotspot.DefaultK(res))
	switch {
	case errors.Is(err, hotspot.ErrNotMeaningful), errors.Is(err, hotspot.ErrTooFew):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("public hot spots at res %d: %w", res, err)
	}
	out := make([]hotCell, len(hc))
	for i, c := range hc {
		n, b := pubs[i].Count()
		out[i] = hotCell{cell: c.Cell, bin: c.Bin, value: c.Count, count: n, bounds: b}
	}
	return out, nil
}
