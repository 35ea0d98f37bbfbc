# Socketeer. `make run` starts the demo, `make test` runs every test; both install what they need.
SHELL := /bin/bash
export PATH := /usr/local/go/bin:$(PATH)
export LANG := C

TAGS    := desktop,production,webkit2_41
BIN     := build/bin/socketeer
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
GOBUILD := go build -tags $(TAGS) -ldflags "-X socketeer/app.Version=$(VERSION)"

.PHONY: all deps build run test typecheck unit e2e bench fuzz clean

all: build

deps:
	@build/scripts/deps.sh

build: deps
	$(GOBUILD) -o $(BIN) .

run: build
	build/scripts/run.sh $(BIN)

# Unit tests (policy, bindings, app logic), the portable build, then the end-to-end tests in the
# real app under Xvfb.
test: build typecheck
	gofmt -l . | (! grep .) || (echo "gofmt needed on the files above"; exit 1)
	go vet -tags $(TAGS) ./...
	GOOS=windows CGO_ENABLED=0 go build -o /dev/null .
	go test -tags $(TAGS) -count=1 -timeout 10m ./policy/... ./bindings/... ./app/
	SOCKETEER_BIN=$(abspath $(BIN)) go test -tags $(TAGS) -count=1 -timeout 12m ./app/e2e/

# The page API's TypeScript declarations and the examples of docs/api.md.
typecheck:
	build/scripts/typecheck.sh

bench: build
	go test -run '^$$' -bench . -benchmem ./bindings/

fuzz:
	go test -run '^$$' -fuzz FuzzParseHost -fuzztime 30s ./policy/
	go test -run '^$$' -fuzz FuzzParseFingerprint -fuzztime 30s ./policy/
	go test -run '^$$' -fuzz FuzzParseFrame -fuzztime 30s ./bindings/
	go test -run '^$$' -fuzz FuzzDecodeOpen -fuzztime 30s ./bindings/

clean:
	rm -rf build/bin
