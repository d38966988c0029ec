-- API bearer tokens (store.TokenStore). Only the SHA-256 of the whole token
-- string is stored, never the token itself: a leak of this table does not
-- let anyone call the API. id is the token's public part (cm_<id>_<secret>),
-- used to list and revoke it. Keep this table away from QGIS users (it is
-- not in any view).

-- +goose Up
CREATE TABLE api_tokens (
    id         text COLLATE "C" PRIMARY KEY CHECK (id ~ '^[0-9a-z]{1,64}$'),
    hash       bytea NOT NULL UNIQUE CHECK (octet_length(hash) = 32),
    role       text NOT NULL CHECK (role IN ('viewer', 'analyst', 'admin')),
    name       text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL,
    expires_at timestamptz CHECK (expires_at > created_at), -- NULL: never
    revoked_at timestamptz                                  -- NULL: active
);

-- +goose Down
DROP TABLE IF EXISTS api_tokens;
