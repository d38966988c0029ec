package disclose

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/crimemap/crimemap/analytics"
	"github.com/paulmach/orb"
)

// SensitiveGroup is the public category group that stands for every
// sensitive category together.
const SensitiveGroup = "other_sensitive"

// The H3 resolutions of public hexbins.
const (
	MinRes = analytics.MinHexbinRes
	MaxRes = 8
)

// Defaults of Config.
const (
	DefaultMaxNoise = 5
	DefaultK        = 5
)

// ErrNotPublic is wrapped by every refusal of a question outside the
// public lattice; the message says what an analyst token unlocks or when
// the period will be published. The server answers 403.
var ErrNotPublic = errors.New("not available without an analyst token")

// SensitiveCategories are the sensitive categories folded into
// SensitiveGroup by default: sexual offences, domestic violence, crimes
// against minors and trafficking in people, with common synonyms.
func SensitiveCategories() []string {
	return []string{
		"rape", "sexual_assault", "sexual_offence", "sexual_offences", "sexual_harassment",
		"domestic_violence", "child_abuse", "crimes_against_minors", "child_sexual_abuse",
		"human_trafficking",
	}
}

// Areas returns the boundary of the unit with code (for the fixed sets of
// public H3 cells).
type Areas func(ctx context.Context, code string) (orb.MultiPolygon, error)

// Config configures the public answers.
type Config struct {
	// Secret mixes the events' record keys; perturbations cannot be
	// predicted without it. Keep it fixed: a new secret re-draws every
	// published value (and the old and new values together say more).
	Secret string
	// MaxNoise bounds the perturbation (default DefaultMaxNoise).
	MaxNoise int
	// K: published values below K are withheld (default DefaultK).
	K int64
	// Sensitive names more sensitive categories (added to
	// SensitiveCategories).
	Sensitive []string
	// Lag is how long after its end a period becomes public (default 0).
	Lag time.Duration
	// Location is the zone periods are cut in (default Asia/Tashkent).
	Location *time.Location
	// Areas gives unit boundaries for the public H3 cells; without it
	// public hexbins answer ErrNotPublic.
	Areas Areas
}

// Discloser makes the public answers. It is safe for concurrent use and
// keeps the public cube of the newest snapshot it was asked about.
type Discloser struct {
	cfg        Config
	secret     uint64
	noiseTable []int8 // e repeated noiseWeight(e) times, for -MaxNoise..MaxNoise
	sensitive  map[string]bool

	mu   sync.Mutex
	cube *cube // of the newest snapshot asked about
	// building is closed when the cube being built is ready.
	building  chan struct{}
	buildSnap uint64

	areaMu  sync.Mutex
	areas   map[areaKey][]uint64
	centres map[int]*cellIndex // RegionCellsIn's index per resolution

	hexMemo hexMemo
}

type areaKey struct {
	code string
	res  int
}

// New returns a Discloser.
func New(cfg Config) *Discloser {
	if cfg.MaxNoise <= 0 {
		cfg.MaxNoise = DefaultMaxNoise
	}
	cfg.MaxNoise = min(cfg.MaxNoise, 100) // keeps the noise table small
	if cfg.K <= 0 {
		cfg.K = DefaultK
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
		if loc, err := time.LoadLocation("Asia/Tashkent"); err == nil {
			cfg.Location = loc
		}
	}
	d := &Discloser{cfg: cfg, sensitive: make(map[string]bool), areas: make(map[areaKey][]uint64), centres: make(map[int]*cellIndex)}
	// The inverse CDF as a table: each e repeated noiseWeight(e) times.
	for e := -int64(cfg.MaxNoise); e <= int64(cfg.MaxNoise); e++ {
		for range noiseWeight(int64(cfg.MaxNoise), e) {
			d.noiseTable = append(d.noiseTable, int8(e))
		}
	}
	for _, c := range append(SensitiveCategories(), cfg.Sensitive...) {
		if c = normCategory(c); c != "" {
			d.sensitive[c] = true
		}
	}
	d.secret = mix64(strHash("crimemap/disclose\x00" + cfg.Secret))
	return d
}

func normCategory(c string) string { return strings.ToLower(strings.TrimSpace(c)) }

// MaxNoise is the bound of the perturbation in force.
func (d *Discloser) MaxNoise() int { return d.cfg.MaxNoise }

// K is the threshold below which published values are withheld.
func (d *Discloser) K() int64 { return d.cfg.K }

// IsSensitive reports whether category is sensitive (or is the group).
func (d *Discloser) IsSensitive(category string) bool {
	c := normCategory(category)
	return d.sensitive[c] || c == SensitiveGroup
}

// PublicCategory is the public group of category: the category itself, or
// SensitiveGroup for a sensitive one.
func (d *Discloser) PublicCategory(category string) string {
	if d.IsSensitive(category) {
		return SensitiveGroup
	}
	return category
}

// Published is one protected count.
type Published struct {
	// Value is the perturbed count. Show it only when !Bounds.Withheld
	// (Count does that); it may feed derived public values (Gi* bins) even
	// when withheld, since Bounds reveals it anyway.
	Value  int64
	Bounds analytics.Bounds
}

// Perturbed recovers the perturbed value of a public count from its
// bounds (Hi - MaxNoise), for derived public statistics.
func (d *Discloser) Perturbed(b analytics.Bounds) int64 { return b.Hi - int64(d.cfg.MaxNoise) }

// Count is the count to show (Value, or 0 when Bounds.Withheld) and the
// bounds that go with it.
func (p Published) Count() (int64, analytics.Bounds) {
	if p.Bounds.Withheld {
		return 0, p.Bounds
	}
	return p.Value, p.Bounds
}

// protect perturbs the true count t of a cell with key ck.
func (d *Discloser) protect(t int64, ck uint32) Published {
	D := int64(d.cfg.MaxNoise)
	v := max(0, t+d.noise(t, ck))
	return Published{Value: v, Bounds: analytics.Bounds{Lo: max(0, v-D), Hi: v + D, Withheld: v < d.cfg.K}}
}

// noise draws the perturbation of a cell from its key and true count:
// triangular weights D+1-|e| on -D..D, by inverse CDF on a mix of the key,
// the count (as the cell-key method's p-table rows) and the secret.
func (d *Discloser) noise(t int64, ck uint32) int64 {
	x := mix64(uint64(ck) ^ uint64(min(max(t, 0), 1<<20))<<32 ^ d.secret)
	return int64(d.noiseTable[(x>>11)%uint64(len(d.noiseTable))]) // 53 uniform bits reduced: bias < 2^-40
}

// noiseWeight is the weight of perturbation e in -D..D: (D+1-|e|)^2, a
// peaked shape whose extremes (the values that let bounds propagation pin
// a cell) are rare: P(e = D) = 1/((D+1)^2 * ...) — for D = 5, 1/146.
func noiseWeight(D, e int64) uint64 {
	w := uint64(D + 1 - abs(e))
	return w * w
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// mix64 is the SplitMix64 finaliser, a bijection with full avalanche.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// recordKey mixes an event's stored record key with the secret.
func (d *Discloser) recordKey(rk uint32) uint32 {
	return uint32(mix64(uint64(rk) ^ d.secret))
}

// cellName is the canonical name of a cell, as hashes of its parts: what
// kind of cell ("cell", "noloc", "unassigned:<level>", "hex"), its period,
// its place (unit code or H3 cell) and its canonical What.
type cellName [4]uint64

// strHash is FNV-1a 64 of s.
func strHash(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * 1099511628211
	}
	return h
}

// nameKey is the key of an empty cell, from the cell's canonical name.
func (d *Discloser) nameKey(n cellName) uint32 {
	h := n[0]*0x9E3779B97F4A7C15 + n[1]*0xC2B2AE3D27D4EB4F + n[2]*0x165667B19E3779F9 + n[3]*0xD6E8FEB86659FD93
	return uint32(mix64(h ^ d.secret))
}

// cellKey is the key of a cell with n events whose record keys sum to sum.
func (d *Discloser) cellKey(n int64, sum uint32, name cellName) uint32 {
	if n == 0 {
		return d.nameKey(name)
	}
	return sum
}

// CheckPeriod refuses a period outside the public lattice at now: not a
// month, quarter, half-year or year, or not yet published.
func (d *Discloser) CheckPeriod(p analytics.Period, now time.Time) error {
	switch p.Kind {
	case analytics.PeriodMonth, analytics.PeriodQuarter, analytics.PeriodHalf, analytics.PeriodYear:
	default:
		what := map[analytics.PeriodKind]string{analytics.PeriodWeek: "an ISO week", analytics.PeriodRange: "a custom range"}[p.Kind]
		if what == "" {
			what = "not a calendar period"
		}
		if strings.Contains(p.Label, "YTD") {
			what = "a year to date"
		}
		return fmt.Errorf("period %q is %s: the public sees closed months, quarters, half-years and years (e.g. 2025-07, 2025-Q3, 2025-H1, 2025); an analyst token unlocks weeks, days and custom ranges: %w",
			p.Label, what, ErrNotPublic)
	}
	if pub := p.To.Add(d.cfg.Lag); pub.After(now) {
		return fmt.Errorf("period %q is not published yet: the public sees it from %s; an analyst token sees running periods: %w",
			p.Label, pub.In(d.cfg.Location).Format("2006-01-02 15:04 MST"), ErrNotPublic)
	}
	return nil
}

// What selects the events of a public cell: everything, one kind, or one
// public category group (optionally within one kind).
type What struct {
	Kind     analytics.Kind // 0: every kind
	Category string         // "": every category; a public group name
}

// CheckFilter turns an analytics filter into a What, refusing what is not
// public: severities, flags, bounding boxes, several kinds or categories,
// and a sensitive category by name.
func (d *Discloser) CheckFilter(f analytics.Filter) (What, error) {
	var w What
	switch {
	case len(f.Severities) > 0:
		return w, fmt.Errorf("severity breakdowns need an analyst token: %w", ErrNotPublic)
	case f.Flags != 0:
		return w, fmt.Errorf("flag filters (juvenile, domestic, recidivist, ...) describe persons and need an analyst token: %w", ErrNotPublic)
	case f.BBox != nil:
		return w, fmt.Errorf("bbox needs an analyst token; the public asks by region, district or mahalla (unit=CODE) or by H3 cell: %w", ErrNotPublic)
	case len(f.Kinds) > 1:
		return w, fmt.Errorf("the public asks for one kind at a time (or none); an analyst token unlocks unions of kinds: %w", ErrNotPublic)
	case len(f.Categories) > 1:
		return w, fmt.Errorf("the public asks for one category at a time (or none); an analyst token unlocks unions of categories: %w", ErrNotPublic)
	}
	if len(f.Kinds) == 1 {
		w.Kind = f.Kinds[0]
	}
	if len(f.Categories) == 1 {
		c := normCategory(f.Categories[0])
		if d.sensitive[c] {
			return w, fmt.Errorf("category %q is sensitive: the public sees it only within category=%s; an analyst token unlocks it: %w", f.Categories[0], SensitiveGroup, ErrNotPublic)
		}
		w.Category = f.Categories[0]
		if c == SensitiveGroup {
			w.Category = SensitiveGroup
		}
	}
	return w, nil
}

// name is the canonical name of w in cell names.
func (w What) name() string {
	k := "*"
	if w.Kind != 0 {
		k = w.Kind.String()
	}
	c := w.Category
	if c == "" {
		c = "*"
	}
	return k + "|" + c
}

// sortedKeys returns the keys of m sorted.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
