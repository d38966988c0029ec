package main

import (
	"fmt"
	"net/url"
	"strings"
)

// parseCORSOrigins reads --cors-origin: comma-separated origins, each
// scheme://host[:port] with scheme http or https and nothing else (a
// trailing "/" is dropped). "*" is refused: token requests are for named
// origins only (public GETs are open to every origin anyway).
func parseCORSOrigins(s string) ([]string, error) {
	var out []string
	for _, o := range splitList(s) {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(u.Host, "*") {
			return nil, fmt.Errorf("%w: --cors-origin %q: want origins scheme://host[:port] with scheme http or https, comma-separated (e.g. https://analyst.example.uz,http://localhost:5173)", errUsage, o)
		}
		out = append(out, strings.ToLower(u.Scheme+"://"+u.Host))
	}
	return out, nil
}

// parsePublicURL reads --public-url: an absolute http or https URL,
// optionally with a path (a prefix under a reverse proxy), without
// credentials, query or fragment; returned without a trailing "/". An
// empty s gives "" (the caller's default).
func parsePublicURL(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.Opaque != "" {
		return "", fmt.Errorf("%w: --public-url %q: want an absolute http or https URL without credentials, query or fragment (e.g. https://map.example.uz)", errUsage, s)
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}
