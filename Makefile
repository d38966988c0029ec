# Two commands set everything up: `make run` and `make test`.
GO       ?= go
ADDR     ?= 127.0.0.1:8080
DATA     ?= ./data
BENCH_EVENTS ?= 1000000

.PHONY: run test bench loadtest build fuzz vet clean web

## run: start the service on the embedded store with the synthetic demo region
run:
	$(GO) run ./cmd/crimemap serve --demo --data $(DATA) --addr $(ADDR)

## test: every test (PostGIS tests run when CRIMEMAP_TEST_DATABASE_URL is set)
test:
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 15m ./...

## bench: Go benchmarks, then the `crimemap bench` table (BENCH_DB=postgres://... adds PostGIS;
## CRIMEMAP_TEST_DATABASE_URL is used when set)
bench:
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 30m ./...
	$(GO) run ./cmd/crimemap bench --events $(BENCH_EVENTS) $(if $(BENCH_DB),--database-url '$(BENCH_DB)')

## loadtest: a demo server on a loopback port under a mix of 200 clients for 60 s, then 50
## parallel heaviest analyses for 30 s; prints latencies, statuses, peak RSS; fails on a missed limit
loadtest:
	$(GO) build -o bin/crimemap ./cmd/crimemap
	./bin/crimemap loadtest $(LOADTEST_FLAGS)

## web: rebuild the web map's committed assets (web/dist) from web/src; needs Node.js and npm,
## which neither `make run` nor `make test` does
web:
	cd web && npm ci --no-audit --no-fund && npm run build

## build: the binary in ./bin
build:
	$(GO) build -o bin/crimemap ./cmd/crimemap

## fuzz: run each native fuzzer for FUZZTIME (default 30s)
FUZZTIME ?= 30s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
		done; \
	done

vet:
	$(GO) vet ./...

clean:
	rm -rf bin data
