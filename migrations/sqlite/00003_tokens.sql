-- API bearer tokens (store.TokenStore), as in the PostGIS schema: only the
-- SHA-256 of the whole token string is stored. Times are INTEGER Unix
-- microseconds UTC; expires_at and revoked_at are NULL when unset.

-- +goose Up
CREATE TABLE api_tokens (
    id         TEXT PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 64 AND id NOT GLOB '*[^0-9a-z]*'),
    hash       BLOB NOT NULL UNIQUE CHECK (length(hash) = 32),
    role       TEXT NOT NULL CHECK (role IN ('viewer', 'analyst', 'admin')),
    name       TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    expires_at INTEGER CHECK (expires_at > created_at),
    revoked_at INTEGER
) STRICT;

-- +goose Down
DROP TABLE IF EXISTS api_tokens;
