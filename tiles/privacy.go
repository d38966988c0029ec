package tiles

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/crimemap/crimemap/analytics"
)

// The public rules (Params.Public: a request without an analyst token).
//
// A public tile shows aggregate layers only (no events layer), for a
// closed month, quarter, half-year or year (one that ended before now;
// never a running period, an ISO week or a custom range), with hexbins no
// finer than H3 resolution PublicMaxResolution. Every published count goes
// through Privacy.Publish:
//
//   - 0 is published as 0;
//   - 1..K-1 is suppressed: the feature keeps its geometry and gets
//     suppressed=true, without count and without anything derived from it
//     (rate, diff, pct; for hotspots z and p are never public);
//   - K and more is rounded to the nearest multiple of Round (half up;
//     never down to 0), and rate, diff and pct are computed from the
//     rounded counts, never from the exact ones.
//
// Suppression alone is not enough: a parent H3 cell is the exact sum of
// its seven children, a quarter the exact sum of its months, a district
// nearly the sum of its mahallas, an unfiltered count the sum of its
// categories, so subtracting the visible numbers from a larger one would
// give back a suppressed count exactly. Rounding every published count to
// a base makes each term of such a difference uncertain by up to Round/2,
// so the residue of n+1 published numbers is only known within an
// interval of width about (n+1)*Round, wider than the 1..K-1 a suppressed
// feature already admits. The rule is applied to every feature
// independently, per resolution, unit level, period and filter, so a cell
// or unit shows the same value in every tile and at every zoom, and
// asking again gives nothing new.
//
// Known limit: deterministic rounding is not perfect. When every term of
// a difference sits at the edge of its rounding interval, intersecting
// the residue interval with 1..K-1 can still pin a suppressed count (a
// parent of 17 published as 15 with children of 8 and 8 published as 10
// and 10 leaves a third child of exactly 1). Attacks need such aligned
// residues and are no longer a plain subtraction; controlled rounding or
// calibrated noise would close them.
//
// Sensitive categories (SensitiveCategories plus Privacy.Sensitive) are
// folded into the group SensitiveGroup: the public may filter by the
// group ("category=other_sensitive", every sensitive category together,
// under the same suppression) but not by one of them (ErrNotPublic);
// unfiltered counts include them.

// SensitiveGroup is the category name that stands for every sensitive
// category together.
const SensitiveGroup = "other_sensitive"

// PublicMaxResolution is the finest H3 resolution of public hexbins.
const PublicMaxResolution = 8

// SensitiveCategories are the sensitive categories of the demo data and
// common synonyms: sexual offences, domestic violence, crimes against
// minors and trafficking in people.
func SensitiveCategories() []string {
	return []string{
		"rape", "sexual_assault", "sexual_offence", "sexual_offences", "sexual_harassment",
		"domestic_violence", "child_abuse", "crimes_against_minors", "child_sexual_abuse",
		"human_trafficking",
	}
}

// Privacy configures the public rules.
type Privacy struct {
	// K: published counts below K (and above 0) are suppressed (default 5).
	K int64
	// Round: published counts are rounded to a multiple of Round (default
	// 5; 1 disables rounding, which makes differencing attacks trivial).
	Round int64
	// Sensitive names more sensitive categories (added to
	// SensitiveCategories).
	Sensitive []string
}

func (p Privacy) withDefaults() Privacy {
	if p.K <= 0 {
		p.K = 5
	}
	if p.Round <= 0 {
		p.Round = 5
	}
	s := SensitiveCategories()
	for _, c := range p.Sensitive {
		s = append(s, strings.ToLower(strings.TrimSpace(c)))
	}
	slices.Sort(s)
	p.Sensitive = slices.Compact(s)
	return p
}

// Publish is the public value of the exact count n: ok is false when it is
// suppressed (0 < n < K); otherwise n rounded to a multiple of Round (0
// stays 0, a count of at least K never rounds down to 0).
func (p Privacy) Publish(n int64) (v int64, ok bool) {
	p = p.withDefaults()
	switch {
	case n <= 0:
		return 0, true
	case n < p.K:
		return 0, false
	}
	v = (n + p.Round/2) / p.Round * p.Round
	if v == 0 {
		v = p.Round
	}
	return v, true
}

// IsSensitive reports whether category is sensitive (or the group).
func (p Privacy) IsSensitive(category string) bool {
	p = p.withDefaults()
	c := strings.ToLower(strings.TrimSpace(category))
	_, found := slices.BinarySearch(p.Sensitive, c)
	return found || c == SensitiveGroup
}

// Errors of the public rules.
var (
	// ErrNotPublic: the request asks for something only an analyst may
	// see (the events layer, a sensitive category). The server answers 403.
	ErrNotPublic = errors.New("not available without an analyst token")
	// ErrPublicPeriod: the public may see only closed months, quarters,
	// half-years and years. The server answers 400 naming the period.
	ErrPublicPeriod = errors.New("period not available without an analyst token")
)

// checkPublic applies the public rules to a request made at now.
func (p Privacy) checkPublic(req Request, now time.Time) error {
	for _, l := range req.Layers {
		if l == LayerEvents {
			return fmt.Errorf("the events layer (raw events): %w", ErrNotPublic)
		}
	}
	for _, c := range req.Params.Categories {
		if p.IsSensitive(c) && c != SensitiveGroup {
			return fmt.Errorf("category %q is sensitive: the public sees it only folded into category=%s: %w", c, SensitiveGroup, ErrNotPublic)
		}
	}
	per := req.Params.Period
	switch per.Kind {
	case analytics.PeriodMonth, analytics.PeriodQuarter, analytics.PeriodHalf, analytics.PeriodYear:
	default:
		return fmt.Errorf("period %q is a %s: the public sees only closed months, quarters, half-years and years (e.g. 2025-07, 2025-Q3, 2025-H1, 2025): %w",
			per.Label, kindName(per.Kind), ErrPublicPeriod)
	}
	if per.To.After(now) {
		return fmt.Errorf("period %q is still running (it ends %s): the public sees only closed periods: %w",
			per.Label, per.To.Format(time.DateOnly), ErrPublicPeriod)
	}
	return nil
}

func kindName(k analytics.PeriodKind) string {
	switch k {
	case analytics.PeriodWeek:
		return "week"
	case analytics.PeriodRange:
		return "custom range"
	}
	return "period of this kind"
}

// expandCategories replaces SensitiveGroup by the sensitive categories and
// returns the categories sorted and distinct.
func (p Privacy) expandCategories(cs []string) []string {
	if len(cs) == 0 {
		return nil
	}
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		if c == SensitiveGroup {
			out = append(out, p.Sensitive...)
			continue
		}
		out = append(out, c)
	}
	slices.Sort(out)
	return slices.Compact(out)
}
