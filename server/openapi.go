package server

import (
	_ "embed"
	"net/http"
)

// openAPI is the OpenAPI 3 description, hand-written so that it documents
// intent; TestOpenAPICoversRoutes fails when a route is missing from it.
//
//go:embed openapi.json
var openAPI []byte

func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(openAPI)
}
