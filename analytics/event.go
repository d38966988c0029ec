package analytics

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/crimemap/crimemap/geo"
)

// Kind is the kind of a registered event.
type Kind uint8

// The three kinds. The zero value is invalid so a forgotten kind is caught.
const (
	KindCrime    Kind = 1 // registered crime
	KindAccident Kind = 2 // road-traffic accident
	KindOffence  Kind = 3 // administrative offence
)

// Kinds lists every kind in storage order.
var Kinds = [...]Kind{KindCrime, KindAccident, KindOffence}

// Sentinel errors of the vocabulary; wrapped with the offending value.
var (
	ErrUnknownKind     = errors.New("unknown kind (want crime, accident or offence)")
	ErrUnknownSeverity = errors.New("unknown severity (want minor, medium, grave or especially_grave)")
	ErrUnknownFlag     = errors.New("unknown flag")
)

func (k Kind) String() string {
	switch k {
	case KindCrime:
		return "crime"
	case KindAccident:
		return "accident"
	case KindOffence:
		return "offence"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// ParseKind parses "crime", "accident" or "offence" (also "offense").
func ParseKind(s string) (Kind, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "crime":
		return KindCrime, nil
	case "accident":
		return KindAccident, nil
	case "offence", "offense":
		return KindOffence, nil
	}
	return 0, fmt.Errorf("%q: %w", s, ErrUnknownKind)
}

// Severity is the criminal code's four-class gravity of a crime.
type Severity uint8

// Severities; SeverityUnknown is stored when the source gives none.
const (
	SeverityUnknown         Severity = 0
	SeverityMinor           Severity = 1 // not grave (kam ahamiyatli)
	SeverityMedium          Severity = 2 // less grave (uncha og'ir bo'lmagan)
	SeverityGrave           Severity = 3 // grave (og'ir)
	SeverityEspeciallyGrave Severity = 4 // especially grave (o'ta og'ir)
)

var severityNames = [...]string{"", "minor", "medium", "grave", "especially_grave"}

func (s Severity) String() string {
	if int(s) < len(severityNames) {
		return severityNames[s]
	}
	return fmt.Sprintf("severity(%d)", uint8(s))
}

// ParseSeverity parses a severity name; "" is SeverityUnknown.
func ParseSeverity(s string) (Severity, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	for i, n := range severityNames {
		if s == n {
			return Severity(i), nil
		}
	}
	return 0, fmt.Errorf("%q: %w", s, ErrUnknownSeverity)
}

// Flags are the yes/no attributes of a crime, one bit each.
type Flags uint16

// The crime flags.
const (
	FlagJuvenile Flags = 1 << iota
	FlagRecidivist
	FlagDomestic
	FlagAlcohol
	FlagDrugs
	FlagPublicPlace
	FlagSolved
)

// FlagCasualties is a snapshot-only bit, not a crime flag: Build sets it
// on road accidents with Killed+Injured > 0 (the snapshot keeps no killed or
// injured columns, and one spare bit of the flags column costs no memory)
// and clears it on every other event. It is not in FlagNames, not stored,
// and filters reject it; read it from the snapshot's flags column.
const FlagCasualties Flags = 1 << 15

// FlagNames maps each flag to its field name, in bit order.
var FlagNames = [...]struct {
	Flag Flags
	Name string
}{
	{FlagJuvenile, "juvenile"},
	{FlagRecidivist, "recidivist"},
	{FlagDomestic, "domestic"},
	{FlagAlcohol, "alcohol"},
	{FlagDrugs, "drugs"},
	{FlagPublicPlace, "public_place"},
	{FlagSolved, "solved"},
}

// ParseFlag returns the flag named name.
func ParseFlag(name string) (Flags, error) {
	for _, f := range FlagNames {
		if f.Name == name {
			return f.Flag, nil
		}
	}
	return 0, fmt.Errorf("%q: %w", name, ErrUnknownFlag)
}

// Has reports whether every bit of g is set in f.
func (f Flags) Has(g Flags) bool { return f&g == g }

// Event is one registered crime, road accident or administrative offence.
// Fields that do not apply to the kind are zero.
type Event struct {
	Kind     Kind
	SourceID string // unique per kind; re-imports update, never duplicate
	// OccurredAt is in UTC.
	OccurredAt time.Time
	// HasLocation is false when the source gave no usable point; such events
	// are kept and counted as "no location".
	HasLocation bool
	Lon, Lat    float64
	// Cell is the H3 cell at geo.EventResolution (0 without a location).
	Cell uint64
	// cells are the H3 cells of Lat/Lon at MinHexbinRes..MaxHexbinRes
	// (geo.LatLngToCell at each), the cells every H3 aggregate counts the
	// event in, valid while Lat/Lon are still cellsAt (see Cells).
	cells    HexCells
	cellsAt  [2]float64
	Category string
	// Unit codes from the spatial index at ingest; "" means unassigned.
	Region, District, Mahalla string

	// Crime and offence.
	Article string
	// Crime only.
	Severity Severity
	Flags    Flags
	// Accident only.
	Killed, Injured int32
	Vehicle         string
	// Offence only.
	Fine float64
}

// Equal reports whether two events carry the same data (times compared as
// instants; the cells, which follow from Lat/Lon, not compared); used to
// tell an unchanged re-import from an update.
func (e *Event) Equal(o *Event) bool {
	a, b := *e, *o
	a.OccurredAt, b.OccurredAt = time.Time{}, time.Time{}
	a.cells, b.cells, a.cellsAt, b.cellsAt = HexCells{}, HexCells{}, [2]float64{}, [2]float64{}
	return a == b && e.OccurredAt.Equal(o.OccurredAt)
}

// hexCellSet is the resolutions SetLocation computes: the hexbin range and
// the event resolution.
const hexCellSet = geo.ResolutionSet((1<<(MaxHexbinRes+1)-1)&^(1<<MinHexbinRes-1)) | 1<<geo.EventResolution

// The cells of an event are derived data, computed once and carried with
// it: SetLocation computes them with Cell from one projection (ingest), the
// stores keep them and give them back with SetCells, and a snapshot build
// reads them instead of projecting every point again. They are stamped
// with the coordinates they were computed for, so an event whose Lat or
// Lon is changed afterwards has no cells (Cells reports false) rather than
// stale ones.

// SetLocation gives the event the point (degrees) with its H3 cells: Cell
// at geo.EventResolution and the cells at the hexbin resolutions, from one
// projection. It fails, leaving e unchanged, for a latitude or longitude
// that is NaN or infinite.
func (e *Event) SetLocation(lat, lon float64) error {
	var all [16]uint64
	if err := geo.LatLngToCellSet(lat, lon, hexCellSet, &all); err != nil {
		return fmt.Errorf("H3 cells of %v,%v: %w", lat, lon, err)
	}
	e.HasLocation, e.Lat, e.Lon = true, lat, lon
	e.Cell = all[geo.EventResolution]
	var c HexCells
	copy(c[:], all[MinHexbinRes:MaxHexbinRes+1])
	e.SetCells(c)
	return nil
}

// ClearLocation removes the event's point and its cells.
func (e *Event) ClearLocation() {
	e.HasLocation, e.Lat, e.Lon, e.Cell = false, 0, 0, 0
	e.cells, e.cellsAt = HexCells{}, [2]float64{}
}

// SetCells records c as the cells of the event's current Lat/Lon (a store
// giving back what it kept); all zero when unknown or without location.
// The caller vouches that c is HexCellsOf(Lat, Lon).
func (e *Event) SetCells(c HexCells) {
	e.cells, e.cellsAt = c, [2]float64{e.Lat, e.Lon}
}

// Cells returns the event's cells at MinHexbinRes..MaxHexbinRes and true
// when they are known for its current location; false without location,
// when never computed, or when Lat/Lon changed since.
func (e *Event) Cells() (HexCells, bool) {
	ok := e.HasLocation && e.cells.Known() && e.cellsAt == [2]float64{e.Lat, e.Lon}
	return e.cells, ok
}

// EnsureCells computes the cells of a located event that has none for its
// current location (see Cells) and clears them without a location.
func (e *Event) EnsureCells() error {
	if !e.HasLocation {
		e.SetCells(HexCells{})
		return nil
	}
	if _, ok := e.Cells(); ok {
		return nil
	}
	c, err := HexCellsOf(e.Lat, e.Lon)
	if err != nil {
		return err
	}
	e.SetCells(c)
	return nil
}

// HexCells are a point's H3 cells at MinHexbinRes..MaxHexbinRes, coarsest
// first.
type HexCells [MaxHexbinRes - MinHexbinRes + 1]uint64

// At returns the cell at res (MinHexbinRes..MaxHexbinRes).
func (c *HexCells) At(res int) uint64 { return c[res-MinHexbinRes] }

// Known reports whether the cells were computed (the res-10 cell is never 0).
func (c *HexCells) Known() bool { return c[len(c)-1] != 0 }

// HexCellsOf returns the cells of the point at MinHexbinRes..MaxHexbinRes.
func HexCellsOf(lat, lon float64) (HexCells, error) {
	var c HexCells
	err := geo.LatLngToCells(lat, lon, MinHexbinRes, MaxHexbinRes, c[:])
	return c, err
}
