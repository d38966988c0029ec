package server

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"strings"

	"github.com/crimemap/crimemap/analytics/classify"
	"github.com/crimemap/crimemap/analytics/disclose"
	"github.com/crimemap/crimemap/analytics/hotspot"
	"github.com/crimemap/crimemap/store"
	"github.com/go-chi/chi/v5/middleware"
)

var (
	errMethod      = errors.New("method not allowed")
	errUnavailable = errors.New("unavailable")
	// errForbidden: a request the role may not make whatever token it
	// shows next (e.g. a sensitive category for the public); 403.
	errForbidden = errors.New("forbidden")
)

// ParamError is a bad query or path parameter: it names the parameter, what
// was given and what is allowed. It maps to 400.
type ParamError struct {
	Param   string
	Value   string
	Allowed string
	Err     error // optional cause
}

func (e *ParamError) Error() string {
	msg := fmt.Sprintf("parameter %q: invalid value %q", e.Param, e.Value)
	if e.Allowed != "" {
		msg += "; allowed: " + e.Allowed
	}
	if e.Err != nil {
		msg += " (" + e.Err.Error() + ")"
	}
	return msg
}

func (e *ParamError) Unwrap() error { return e.Err }

// UnknownParamError is a query parameter the route does not document
// (server/openapi.json): it names them, the route and what is allowed, and
// suggests the allowed name nearest to a misspelt one. It maps to 400.
type UnknownParamError struct {
	Params  []string    // the unknown names, sorted
	Route   string      // "GET /v1/stats"
	Allowed []string    // the route's query parameters, sorted
	Suggest [][2]string // unknown names with the allowed one each is near (within edit distance 2)
}

func (e *UnknownParamError) Error() string {
	quoted := make([]string, len(e.Params))
	for i, p := range e.Params {
		quoted[i] = quoteName(p)
	}
	msg := "unknown query parameter "
	if len(quoted) > 1 {
		msg = "unknown query parameters "
	}
	allowed := "none"
	if len(e.Allowed) > 0 {
		allowed = strings.Join(e.Allowed, ", ")
	}
	msg += strings.Join(quoted, ", ") + " on " + e.Route + " (allowed: " + allowed + ")"
	switch {
	case len(e.Suggest) == 1 && len(e.Params) == 1:
		msg += fmt.Sprintf("; did you mean %q?", e.Suggest[0][1])
	case len(e.Suggest) > 0:
		hints := make([]string, len(e.Suggest))
		for i, sg := range e.Suggest {
			hints[i] = fmt.Sprintf("%q for %s", sg[1], quoteName(sg[0]))
		}
		msg += "; did you mean " + strings.Join(hints, ", ") + "?"
	}
	return msg
}

// quoteName quotes a client's parameter name for a message, cut to 64
// runes.
func quoteName(name string) string {
	if r := []rune(name); len(r) > 64 {
		return fmt.Sprintf("%q...", string(r[:64]))
	}
	return fmt.Sprintf("%q", name)
}

// apiError is the JSON body of every error response.
type apiError struct {
	Error     string `json:"error"`
	Status    int    `json:"status"`
	Param     string `json:"param,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

// statusOf maps an error to its HTTP status; this is the only place that
// does so.
func statusOf(err error) int {
	var pe *ParamError
	var ue *UnknownParamError
	var ae *AuthError
	var re *RefusedError
	switch {
	case errors.As(err, &ae):
		return ae.status() // 401 without a valid token, 403 with one of a lower role
	case errors.As(err, &re):
		return re.status() // 429 the client's rate, 503 the service's capacity
	case errors.Is(err, ErrTooLarge):
		return http.StatusUnprocessableEntity // over the per-request maximum: narrow it
	case errors.As(err, &pe), errors.As(err, &ue), errors.Is(err, store.ErrInvalid):
		return http.StatusBadRequest
	case errors.Is(err, hotspot.ErrNotMeaningful), errors.Is(err, hotspot.ErrTooFew):
		return http.StatusUnprocessableEntity // a valid request whose analysis would mean nothing
	case errors.Is(err, classify.ErrPolicy):
		return http.StatusUnprocessableEntity // the configured policy cannot classify this request (e.g. no thresholds for the period kind)
	case errors.Is(err, errForbidden), errors.Is(err, disclose.ErrNotPublic):
		return http.StatusForbidden
	case errors.Is(err, store.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, store.ErrConflict):
		return http.StatusConflict
	case errors.Is(err, errMethod):
		return http.StatusMethodNotAllowed
	case errors.Is(err, errUnavailable):
		return http.StatusServiceUnavailable
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout
	case errors.Is(err, context.Canceled):
		return 499 // client closed request (nginx convention); never sent
	case storeUnreachable(err):
		return http.StatusServiceUnavailable // the store is down or unreachable (health.go); the snapshot routes still answer
	}
	return http.StatusInternalServerError
}

// writeError logs err and writes its JSON body. Internal errors are logged
// in full but answered with a generic message; a client that went away is
// logged at debug level and gets nothing. Other errors are answered with
// publicMessage(err): never text from below the service's own errors
// (driver messages, SQLSTATEs, connection strings, file paths); when it
// withholds something, the full error is logged.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status := statusOf(err)
	reqID := middleware.GetReqID(r.Context())
	msg := publicMessage(err)
	if msg == "" && storeUnreachable(err) {
		msg = "the store is unavailable (the service answers what it can from memory)"
	}
	if msg == "" {
		msg = strings.ToLower(http.StatusText(status))
	}
	if status == http.StatusServiceUnavailable && !strings.Contains(msg, "retry") {
		msg += "; retry later"
	}
	if status < 500 && status != 499 && msg != err.Error() {
		s.log.InfoContext(r.Context(), "error detail withheld from the client", slog.String("path", r.URL.Path),
			slog.Int("status", status), slog.Any("err", err), slog.String("request_id", reqID))
	}
	body := apiError{Error: msg, Status: status, RequestID: reqID}
	var pe *ParamError
	if errors.As(err, &pe) {
		body.Param = pe.Param
	}
	var ue *UnknownParamError
	if errors.As(err, &ue) && len(ue.Params) > 0 {
		body.Param = ue.Params[0]
	}
	var ae *AuthError
	if errors.As(err, &ae) {
		w.Header().Set("WWW-Authenticate", ae.challenge())
	}
	var re *RefusedError
	if errors.As(err, &re) {
		w.Header().Set("Retry-After", re.retryAfter())
	}
	switch {
	case status == 499:
		s.log.DebugContext(r.Context(), "client left", slog.String("path", r.URL.Path), slog.Any("err", err))
		return
	case status >= 500:
		s.log.ErrorContext(r.Context(), "request failed", slog.String("path", r.URL.Path), slog.Int("status", status), slog.Any("err", err), slog.String("request_id", reqID))
		if status == http.StatusInternalServerError {
			body.Error = "internal error (request " + reqID + ")"
		}
	}
	s.writeJSON(w, r, status, body)
}

func (s *Server) writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	s.writeJSONBody(w, r, status, v)
}

func (s *Server) writeJSONBody(w http.ResponseWriter, r *http.Request, status int, v any) {
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	if err := enc.Encode(v); err != nil && !strings.Contains(err.Error(), "broken pipe") {
		s.log.DebugContext(r.Context(), "write response", slog.Any("err", err))
	}
}

// clientError is an error whose message is written for clients: writeError
// answers with msg alone and logs the wrapped err, which keeps its status
// (e.g. &clientError{"the store is unavailable", fmt.Errorf("%w: %w",
// errUnavailable, err)} is a 503 saying only that).
type clientError struct {
	msg string
	err error
}

func (e *clientError) Error() string {
	if e.err == nil {
		return e.msg
	}
	return e.msg + ": " + e.err.Error()
}

func (e *clientError) Unwrap() error { return e.err }

// modulePath is the import path of this module: errors of types declared
// under it are the service's own.
const modulePath = "github.com/crimemap/crimemap"

// publicMessage is the part of err's message that may reach a client: the
// message of a *clientError in the chain, otherwise err.Error() cut where
// the text of the first foreign error in its tree begins ("" when all of
// it is foreign, or when that text cannot be found in the message: the
// caller then answers a generic message). The tree is walked from the top
// (both Unwrap forms); an error is foreign when
//   - it is a database/sql sentinel (sql.ErrNoRows, ErrConnDone, ErrTxDone);
//   - its type is declared outside this module (a driver's *pgconn.PgError,
//     pgx.ErrNoRows, *sqlite.Error, *net.OpError, *fs.PathError, ...),
//     except the standard library's anonymous errors.New/fmt.Errorf kinds
//     and the errors of context, strconv, time and encoding/json, which
//     describe a client's own input or its deadline;
//   - it is one of those anonymous kinds whose own text (its message less
//     its children's) carries a driver marker (SQLSTATE, a URL, "sql:",
//     "database is locked", "host=", a password, ...);
//   - it is an anonymous wrapper of foreign errors only: whoever wrapped a
//     driver error and nothing of the service's (e.g. a driver's "open
//     /var/lib/...: %w") wrote driver text;
//   - it follows store.ErrNotFound, ErrConflict or ErrInvalid in the same
//     fmt.Errorf("%w: %w", ...): that is where the stores put the driver
//     error they translated.
//
// Whatever survives is checked once more for driver markers and cut before
// the first one.
func publicMessage(err error) string {
	if err == nil {
		return ""
	}
	var ce *clientError
	if errors.As(err, &ce) {
		return ce.msg
	}
	msg := err.Error()
	cut := len(msg)
	drop := func(e error) { // drop e's text and what follows it
		t := e.Error()
		if t == "" {
			return
		}
		i := strings.Index(msg, t)
		if i < 0 {
			cut = -1 // cannot locate the text: answer nothing of msg
		} else if cut >= 0 && i < cut {
			cut = i
		}
	}
	// foreign reports whether all of e is foreign; below an error that is
	// not, it drops the foreign subtrees.
	var foreign func(e error) bool
	foreign = func(e error) bool {
		if isForeignError(e) {
			return true
		}
		var kids []error
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			kids = []error{u.Unwrap()}
		case interface{ Unwrap() []error }:
			kids = u.Unwrap()
		}
		var out []error
		below := false // after a store sentinel: the driver's error
		for _, c := range kids {
			switch {
			case c == nil:
				continue
			case below, foreign(c):
				out = append(out, c)
			case len(kids) > 1 && (c == store.ErrNotFound || c == store.ErrConflict || c == store.ErrInvalid):
				below = true
			}
		}
		if len(kids) > 0 && len(out) == len(kids) && !ownType(e) {
			return true // a wrapper of foreign errors only: the parent drops it whole
		}
		for _, c := range out {
			drop(c)
		}
		return false
	}
	if foreign(err) || cut < 0 {
		return ""
	}
	out := msg[:cut]
	if i := driverMarker(out); i >= 0 {
		out = out[:i]
	}
	return strings.TrimRight(out, " \t\r\n:;,(-")
}

// ownType reports whether e's type is declared in this module.
func ownType(e error) bool {
	t := reflect.TypeOf(e)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	pkg := t.PkgPath()
	return pkg == modulePath || strings.HasPrefix(pkg, modulePath+"/")
}

// isForeignError reports whether e itself (not what it wraps) comes from
// below the service; see publicMessage.
func isForeignError(e error) bool {
	switch e {
	case sql.ErrNoRows, sql.ErrConnDone, sql.ErrTxDone:
		return true
	case context.Canceled, context.DeadlineExceeded:
		return false
	}
	if ownType(e) {
		return false
	}
	t := reflect.TypeOf(e)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch pkg := t.PkgPath(); {
	case pkg == "context", pkg == "strconv", pkg == "time", pkg == "encoding/json":
		return false
	case pkg == "errors", pkg == "fmt":
		own := e.Error()
		var kids []error
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			kids = []error{u.Unwrap()}
		case interface{ Unwrap() []error }:
			kids = u.Unwrap()
		}
		for _, k := range kids {
			if k != nil {
				own = strings.Replace(own, k.Error(), "", 1)
			}
		}
		return driverMarker(own) >= 0
	}
	return true
}

// driverMarker is the index of the first sign of database driver or
// connection text in s (case-insensitive), -1 without one.
func driverMarker(s string) int {
	ls := strings.ToLower(s)
	first := -1
	for _, m := range []string{"sqlstate", "://", "sql:", "database is locked", "no rows in result set",
		"sqlite_", "pgx", "pgconn", "password", "host=", "user=", "dbname=", "sslmode="} {
		if i := strings.Index(ls, m); i >= 0 && (first < 0 || i < first) {
			first = i
		}
	}
	return first
}
