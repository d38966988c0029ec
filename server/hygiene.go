package server

// HTTP hygiene: what the server logs about a request (secrets redacted),
// the security headers every response carries, and CORS.

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// redacted replaces the value of a secret in logs.
const redacted = "REDACTED"

// secretParam reports whether a query parameter's name (as decoded) can
// carry a secret: token, access_token, api_key, apikey, key, secret,
// password, auth, authorization, jwt, sig, signature; case-insensitive,
// with "-" read as "_" (api-key) and surrounding spaces ignored.
func secretParam(name string) bool {
	switch strings.ReplaceAll(strings.ToLower(strings.TrimSpace(name)), "-", "_") {
	case "token", "access_token", "api_key", "apikey", "key", "secret", "password",
		"auth", "authorization", "jwt", "sig", "signature":
		return true
	}
	return false
}

// redactQuery is the raw query string rawQuery as it may be logged: the
// values of secret parameters (secretParam) become REDACTED, the rest is
// kept as sent. Parameters are split on "&" and ";" (Go's own parser
// rejects ";" but a log must not print what follows it). When a
// parameter's name cannot be decoded (a bad %-escape, a control
// character), a secret cannot be told from a harmless parameter: then
// only the names of the parameters are logged, without any value, each
// marked "=REDACTED" when it had one. Token-shaped strings
// (cm_<id>_<secret>) are redacted wherever they appear.
func redactQuery(rawQuery string) string {
	if rawQuery == "" {
		return ""
	}
	parts := strings.FieldsFunc(rawQuery, func(r rune) bool { return r == '&' || r == ';' })
	out := make([]string, 0, len(parts))
	malformed := false
	for _, p := range parts {
		k, _, hasValue := strings.Cut(p, "=")
		name, err := url.QueryUnescape(k)
		if err != nil || strings.ContainsFunc(name, isControl) {
			malformed = true
			break
		}
		if hasValue && secretParam(name) {
			p = k + "=" + redacted
		}
		out = append(out, p)
	}
	if malformed {
		out = out[:0]
		for _, p := range parts {
			k, _, hasValue := strings.Cut(p, "=")
			k = strings.Map(func(r rune) rune {
				if isControl(r) {
					return -1
				}
				return r
			}, k)
			if hasValue {
				k += "=" + redacted
			}
			out = append(out, k)
		}
	}
	return redactTokens(strings.Join(out, "&"))
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// Patterns of secrets in free text (the http.Server's own log lines).
// Compiled once; a *regexp.Regexp is immutable and safe for concurrent use.
var (
	// tokenPattern is a crimemap token, cm_<8 hex>_<base64url secret>;
	// the ID is public and kept.
	tokenPattern = regexp.MustCompile(`\b(cm_[0-9a-fA-F]{8}_)[A-Za-z0-9_-]+`)
	// authPattern is an Authorization header or a bearer/basic credential.
	authPattern = regexp.MustCompile(`(?i)(\b(?:proxy-)?authorization\s*[:=]\s*)[^\r\n]*|(\b(?:bearer|basic)\s+)[A-Za-z0-9._~+/=-]+`)
	// paramPattern is a secret parameter in a URL or form-like text.
	paramPattern = regexp.MustCompile(`(?i)((?:^|[?&;\s"'])(?:access[_-]token|api[_-]?key|token|key|secret|password|auth|authorization|jwt|sig|signature)=)[^&;\s"'#]*`)
	// userinfoPattern is the password of a URL (postgres://user:pw@host).
	userinfoPattern = regexp.MustCompile(`(://[^/\s:@]*:)[^@\s/]*@`)
)

// redactTokens replaces the secret part of crimemap tokens in s.
func redactTokens(s string) string {
	return tokenPattern.ReplaceAllString(s, "${1}"+redacted)
}

// redactText redacts secrets from free text: tokens, Authorization
// headers, bearer and basic credentials, secret query parameters and URL
// passwords.
func redactText(s string) string {
	s = authPattern.ReplaceAllStringFunc(s, func(m string) string {
		sub := authPattern.FindStringSubmatch(m)
		if sub[1] != "" {
			return sub[1] + redacted
		}
		return sub[2] + redacted
	})
	s = paramPattern.ReplaceAllString(s, "${1}"+redacted)
	s = userinfoPattern.ReplaceAllString(s, "${1}"+redacted+"@")
	return redactTokens(s)
}

// errorLogWriter receives the http.Server's own log lines (TLS handshake
// failures, bad requests it answers itself, panics that got past
// recoverPanics) and writes them to the slog logger at warn, redacted:
// such lines can quote a request's URL or headers.
type errorLogWriter struct{ log *slog.Logger }

func (w errorLogWriter) Write(p []byte) (int, error) {
	w.log.LogAttrs(context.Background(), slog.LevelWarn, redactText(strings.TrimRight(string(p), "\r\n")))
	return len(p), nil
}

// securityHeaders sets the headers every response carries:
//   - X-Content-Type-Options: nosniff: JSON and MVT are never sniffed as
//     HTML or script;
//   - X-Frame-Options: DENY and Content-Security-Policy: frame-ancestors
//     'none': no page may frame the service (clickjacking). The web map's
//     page and assets (web.go) replace the policy with webCSP, which keeps
//     frame-ancestors 'none' and adds what the page may load;
//   - Referrer-Policy: no-referrer: links followed from the service do not
//     leak its URLs (and their queries);
//   - Cross-Origin-Resource-Policy: cross-origin for /tiles/, /styles/ and
//     the basemap (map clients on other sites fetch them), same-site
//     elsewhere.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", "frame-ancestors 'none'")
		h.Set("Referrer-Policy", "no-referrer")
		if strings.HasPrefix(r.URL.Path, "/tiles/") || strings.HasPrefix(r.URL.Path, "/styles/") ||
			strings.HasPrefix(r.URL.Path, "/basemap/") || r.URL.Path == "/basemap.json" {
			h.Set("Cross-Origin-Resource-Policy", "cross-origin")
		} else {
			h.Set("Cross-Origin-Resource-Policy", "same-site")
		}
		next.ServeHTTP(w, r)
	})
}

// CORS response header values.
const (
	corsMethods       = "GET, POST, OPTIONS"
	corsHeadersToken  = "Authorization, Content-Type, If-None-Match"
	corsHeadersPublic = "Content-Type, If-None-Match"
	corsExpose        = "ETag, X-Crimemap-Snapshot, Retry-After"
	corsMaxAge        = "600"
)

// normalizeOrigins returns the configured CORS origins as a set, each
// lower-cased and without a trailing "/", to compare with the Origin
// header (which browsers send as scheme://host[:port]).
func normalizeOrigins(origins []string) map[string]bool {
	set := make(map[string]bool, len(origins))
	for _, o := range origins {
		if o = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(o), "/")); o != "" && o != "*" {
			set[o] = true
		}
	}
	return set
}

// cors answers cross-origin requests. It is written here rather than taken
// from github.com/go-chi/cors because the rule depends on the request, not
// only on its origin: public reads are open to every origin ("*", no
// credentials) while requests carrying a token are for the configured
// origins only (the origin echoed, Vary: Origin), which go-chi/cors, with
// one origin policy per handler, cannot express without two stacked
// middlewares; it would also be a new dependency for about 60 lines.
//
//   - GET or HEAD without Authorization: Access-Control-Allow-Origin: *
//     whatever the origin (and without one, so that caches keep one
//     answer), with the exposed headers ETag, X-Crimemap-Snapshot and
//     Retry-After.
//   - Any request with Authorization, and any other method: the origin
//     echoed when it is one of Config.CORSOrigins (exact scheme://host[:port]),
//     no CORS header otherwise, so the browser blocks the answer; Vary: Origin.
//   - OPTIONS on any path is answered here with 204, never reaching a
//     handler or the 405 path. A preflight (Access-Control-Request-Method)
//     for a GET or HEAD that does not ask for Authorization is allowed for
//     every origin; one asking for Authorization (or for POST) only for
//     the configured origins. Allowed preflights get
//     Access-Control-Allow-Methods GET, POST, OPTIONS, Allow-Headers
//     (Authorization, Content-Type, If-None-Match; without Authorization
//     for the public answer) and Max-Age 600.
//
// No answer sets Access-Control-Allow-Credentials: the API uses no
// cookies, and a bearer token set by the page's script needs none.
func (s *Server) cors(next http.Handler) http.Handler {
	allowed := normalizeOrigins(s.cfg.CORSOrigins)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		origin := r.Header.Get("Origin")
		trusted := origin != "" && allowed[strings.ToLower(origin)]
		if r.Method == http.MethodOptions {
			h.Add("Vary", "Origin")
			h.Add("Vary", "Access-Control-Request-Method")
			h.Add("Vary", "Access-Control-Request-Headers")
			h.Set("Allow", corsMethods)
			method := r.Header.Get("Access-Control-Request-Method")
			if origin != "" && method != "" {
				public := (method == http.MethodGet || method == http.MethodHead) &&
					!requestsHeader(r.Header.Values("Access-Control-Request-Headers"), "Authorization")
				switch {
				case trusted:
					h.Set("Access-Control-Allow-Origin", origin)
					h.Set("Access-Control-Allow-Headers", corsHeadersToken)
				case public:
					h.Set("Access-Control-Allow-Origin", "*")
					h.Set("Access-Control-Allow-Headers", corsHeadersPublic)
				}
				if h.Get("Access-Control-Allow-Origin") != "" {
					h.Set("Access-Control-Allow-Methods", corsMethods)
					h.Set("Access-Control-Max-Age", corsMaxAge)
				}
			}
			w.WriteHeader(http.StatusNoContent)
			return
		}
		token := r.Header.Get("Authorization") != ""
		if (r.Method == http.MethodGet || r.Method == http.MethodHead) && !token {
			h.Set("Access-Control-Allow-Origin", "*")
			h.Set("Access-Control-Expose-Headers", corsExpose)
		} else {
			if token {
				// The answer depends on the token too (authenticate adds
				// that again); named first, as the handlers expect.
				h.Add("Vary", "Authorization, Origin")
			} else {
				h.Add("Vary", "Origin")
			}
			if trusted {
				h.Set("Access-Control-Allow-Origin", origin)
				h.Set("Access-Control-Expose-Headers", corsExpose)
			}
		}
		next.ServeHTTP(w, r)
	})
}

// requestsHeader reports whether Access-Control-Request-Headers values
// name header (case-insensitive).
func requestsHeader(values []string, header string) bool {
	for _, v := range values {
		for f := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(f), header) {
				return true
			}
		}
	}
	return false
}
