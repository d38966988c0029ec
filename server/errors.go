package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/crimemap/crimemap/analytics/classify"
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
	var ae *AuthError
	switch {
	case errors.As(err, &ae):
		return ae.status() // 401 without a valid token, 403 with one of a lower role
	case errors.As(err, &pe), errors.Is(err, store.ErrInvalid):
		return http.StatusBadRequest
	case errors.Is(err, hotspot.ErrNotMeaningful), errors.Is(err, hotspot.ErrTooFew):
		return http.StatusUnprocessableEntity // a valid request whose analysis would mean nothing
	case errors.Is(err, classify.ErrPolicy):
		return http.StatusUnprocessableEntity // the configured policy cannot classify this request (e.g. no thresholds for the period kind)
	case errors.Is(err, errForbidden):
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
	}
	return http.StatusInternalServerError
}

// writeError logs err and writes its JSON body. Internal errors are logged
// in full but answered with a generic message; a client that went away is
// logged at debug level and gets nothing.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status := statusOf(err)
	reqID := middleware.GetReqID(r.Context())
	body := apiError{Error: err.Error(), Status: status, RequestID: reqID}
	var pe *ParamError
	if errors.As(err, &pe) {
		body.Param = pe.Param
	}
	var ae *AuthError
	if errors.As(err, &ae) {
		w.Header().Set("WWW-Authenticate", ae.challenge())
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
