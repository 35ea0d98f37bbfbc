# Socketeer. `make run` starts the demo, `make test` runs every test; both install what they need.
SHELL := /bin/bash
export PATH := /usr/local/go/bin:$(PATH)
export LANG := C

TAGS    := desktop,production,webkit2_41
BIN     := build/bin/socketeer
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
GOBUILD := go build -tags $(TAGS) -buildmode=pie -ldflags "-s -w -X socketeer/app.Version=$(VERSION)"

.PHONY: all deps build run test typecheck unit e2e bench fuzz clean package windows

all: build

deps:
	@build/scripts/deps.sh

build: deps
	$(GOBUILD) -o $(BIN) .

run: build
	build/scripts/run.sh $(BIN)

# The Debian package (build/bin/socketeer_<version>_<arch>.deb); see build/linux/.
package: build
	go run ./build/linux/mkdeb -bin $(BIN) -version $(VERSION) -out build/bin

# socketeer.exe and its NSIS installer (build/bin/); see build/windows/.
windows: deps
	build/scripts/windows.sh $(VERSION)

# Unit tests (policy, bindings, app logic), the portable build, then the end-to-end tests in the
# real app under Xvfb.
test: build typecheck
	gofmt -l . | (! grep .) || (echo "gofmt needed on the files above"; exit 1)
	go vet -tags $(TAGS) ./...
	build/scripts/windows.sh $(VERSION)
	go test -tags $(TAGS) -count=1 -timeout 10m ./policy/... ./bindings/... ./app/ ./app/debpkg/
	SOCKETEER_BIN=$(abspath $(BIN)) go test -tags $(TAGS) -count=1 -timeout 12m ./app/e2e/
	build/scripts/test-packages.sh $(BIN) $(VERSION)

# The page API's TypeScript declarations and the examples of docs/api.md.
typecheck:
	build/scripts/typecheck.sh

# The benchmark: page in the real app against native Go, same workloads, same run (docs/benchmarks.md).
bench: build
	go test -run '^$$' -bench . -benchmem ./bindings/
	mkdir -p build/bench
	set -o pipefail; SOCKETEER_BENCH=full SOCKETEER_BENCH_OUT=$(abspath build/bench/results.json) SOCKETEER_BIN=$(abspath $(BIN)) \
		go test -tags $(TAGS) -count=1 -timeout 10m -run '^TestBench$$' -v ./app/e2e/ | grep -v '^ *process_test.go\|^ *servers_test.go'
	@echo "results: build/bench/results.json"

fuzz:
	go test -run '^$$' -fuzz FuzzParseHost -fuzztime 30s ./policy/
	go test -run '^$$' -fuzz FuzzParseFingerprint -fuzztime 30s ./policy/
	go test -run '^$$' -fuzz FuzzParseGrants -fuzztime 30s ./policy/
	go test -run '^$$' -fuzz FuzzParseEnterpriseFile -fuzztime 30s ./policy/
	go test -run '^$$' -fuzz FuzzParseFrame -fuzztime 30s ./bindings/
	go test -run '^$$' -fuzz FuzzDecodeOpen -fuzztime 30s ./bindings/
	go test -run '^$$' -fuzz FuzzParsePeer -fuzztime 30s ./bindings/

clean:
	rm -rf build/bin
