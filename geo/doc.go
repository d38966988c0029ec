// Package geo holds places: administrative units (region > district > mahalla),
// boundary I/O with validation and repair, the point-to-unit index, H3 helpers
// and tile math. It imports only the standard library, orb and h3-go.
package geo
