// Package demo generates the SYNTHETIC demo region used by `crimemap demo`
// and `crimemap serve --demo`: the regions Kashkadarya (SOATO 1710) and
// Bukhara (1706) with their districts and cities, ~850 synthetic mahallas,
// and three years of synthetic crimes, road accidents and administrative
// offences.
//
// What is real: SOATO codes and unit names (MIMAXUZ/uzbekistan-regions-data,
// GPL-3.0), district and region populations for 2026 (National Statistics
// Committee, CC BY 4.0) and the simplified region boundaries (© OpenStreetMap
// contributors, ODbL 1.0, via akbartus/GeoJSON-Uzbekistan). What is
// synthetic: district and mahalla boundaries (Voronoi cells around
// approximate real centres, clipped to the regions), mahalla codes, names
// and populations, and every event. The events are NOT real crime
// statistics: every consumer must show Notice next to them.
//
// Units() is deterministic; Events(ctx, cfg, units, fn) is deterministic
// for a given Config (same Seed and Now give identical events).
package demo

// Notice labels everything this package produces. Show it wherever demo
// data is printed, served or exported.
const Notice = "SYNTHETIC DEMO DATA — not real crime statistics"

// Attribution credits the real sources the demo units are built from.
const Attribution = "Region boundaries © OpenStreetMap contributors (ODbL 1.0, via akbartus/GeoJSON-Uzbekistan), simplified; " +
	"population: National Statistics Committee of the Republic of Uzbekistan, indicator 2.01.02.0001, 2026 (CC BY 4.0); " +
	"SOATO codes and names: MIMAXUZ/uzbekistan-regions-data (GPL-3.0). " +
	"District and mahalla boundaries, mahalla names and populations, and all events are synthetic."
