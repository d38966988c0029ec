package analytics

import (
	"errors"
	"fmt"
	"strings"
	"time"
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
	Cell     uint64
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
// instants); used to tell an unchanged re-import from an update.
func (e *Event) Equal(o *Event) bool {
	a, b := *e, *o
	a.OccurredAt, b.OccurredAt = time.Time{}, time.Time{}
	return a == b && e.OccurredAt.Equal(o.OccurredAt)
}
