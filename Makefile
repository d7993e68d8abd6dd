# Makefile: the entry points people and CI use.
#
#   make demo     fix a copy of the seed's configuration (Examples/seed) and show it
#   make test     everything CI runs: unit, differential and golden tests, then the
#                 real-Postfix delivery test
#   make e2e      the real-Postfix delivery test alone
#   make bench    the benchmark against postmap (not part of make test)
#   make release  the self-contained release binary (scripts/build-release.sh:
#                 static Swift runtime, stripped) in .build-release/release
#   make install  PREFIX=/usr/local DESTDIR=... : that binary, man page, completions
#   make deb      out/deb/postfix-tls-fix_VERSION_ARCH.deb (debian/), checked by lintian
#   make rpm      out/rpm/ARCH/postfix-tls-fix-VERSION-1.ARCH.rpm (rpm/postfix-tls-fix.spec)
#   make package-test  builds both, installs and purges the .deb, checks the
#                 RPM, and runs the maintainer snippets in real packages
#
# Each target installs the Debian packages it needs when they are missing
# (scripts/install-deps.sh; root only): building needs libdb-dev alone;
# the targets that run Postfix (test, e2e, demo, bench) also install it.
# docs/packaging.md describes the packages.

PREFIX ?= /usr/local
DESTDIR ?=
SWIFT ?= swift
BUILD_FLAGS ?=
DEBUG_BIN = .build/debug/postfix-tls-fix
RELEASE_BIN = .build/release/postfix-tls-fix
# The shipped binary: its own build directory (scripts/build-release.sh says why).
STATIC_BIN = .build-release/release/postfix-tls-fix
VERSION := $(shell cat VERSION)
OUT = $(CURDIR)/out

.PHONY: all deps build-deps deps-package build test unit e2e demo bench release install deb rpm package-test clean

all: build

deps:
	@./scripts/install-deps.sh all

build-deps:
	@./scripts/install-deps.sh build

deps-package:
	@./scripts/install-deps.sh package

build: build-deps
	$(SWIFT) build $(BUILD_FLAGS)

# Unit, differential and golden tests; the install test (scripts/install.sh
# into a scratch DESTDIR: binary, man page, completions); the Ansible role
# run by ansible-core from PyPI (Tests/ansible); the package test (the .deb
# and the RPM, built, installed and checked); then the end-to-end test,
# which CI must actually run (its exit status 77, "cannot run here", fails
# under CI).
test: deps deps-package
	$(SWIFT) build --build-tests $(BUILD_FLAGS)
	$(SWIFT) test --skip-build $(BUILD_FLAGS)
	./Tests/install/run-install-test.sh $(DEBUG_BIN)
	./Tests/ansible/run-ansible-test.sh $(DEBUG_BIN)
	./Tests/package/run-package-test.sh
	@$(MAKE) --no-print-directory e2e-run

unit: deps
	$(SWIFT) build --build-tests $(BUILD_FLAGS)
	$(SWIFT) test --skip-build $(BUILD_FLAGS)

e2e: deps
	$(SWIFT) build --product postfix-tls-fix $(BUILD_FLAGS)
	@$(MAKE) --no-print-directory e2e-run

e2e-run:
	@status=0; ./Tests/e2e/run-e2e.sh $(DEBUG_BIN) || status=$$?; \
	if [ $$status -eq 77 ] && [ -z "$$CI" ]; then echo "e2e: skipped (see SKIP above)"; exit 0; fi; \
	exit $$status

demo: deps
	$(SWIFT) build --product postfix-tls-fix $(BUILD_FLAGS)
	@./scripts/demo.sh $(DEBUG_BIN)

bench: deps
	$(SWIFT) build -c release --product postfix-tls-fix $(BUILD_FLAGS)
	@./scripts/bench.sh $(RELEASE_BIN)

release: build-deps
	./scripts/build-release.sh $(BUILD_FLAGS)

install: release
	./scripts/install.sh $(STATIC_BIN) "$(DESTDIR)" "$(PREFIX)"

# dpkg-buildpackage -d: the Swift toolchain is not a Debian package, so the
# build dependency check would always fail (docs/packaging.md). The .deb,
# .buildinfo and .changes go to out/deb, not to the parent directory.
deb: build-deps deps-package
	rm -rf $(OUT)/deb
	mkdir -p $(OUT)/deb
	PTF_DEB_DESTDIR=$(OUT)/deb dpkg-buildpackage -us -uc -b -d \
	    --buildinfo-file=$(OUT)/deb/postfix-tls-fix_$(VERSION)_$$(dpkg-architecture -qDEB_HOST_ARCH).buildinfo \
	    --changes-file=$(OUT)/deb/postfix-tls-fix_$(VERSION)_$$(dpkg-architecture -qDEB_HOST_ARCH).changes \
	    --buildinfo-option=-u$(OUT)/deb --changes-option=-u$(OUT)/deb
	lintian --fail-on error,warning --display-info $(OUT)/deb/*.changes

# The RPM packs the release binary staged by scripts/install.sh (rpmbuild
# does not build it); its date is debian/changelog's, like the .deb's.
# Debian's brp-compress fails under dash; the spec compresses the man page.
rpm: deps-package release
	rm -rf $(OUT)/rpm
	SOURCE_DATE_EPOCH=$$(dpkg-parsechangelog -STimestamp) ./scripts/install.sh $(STATIC_BIN) $(OUT)/rpm/stage /usr
	SOURCE_DATE_EPOCH=$$(dpkg-parsechangelog -STimestamp) rpmbuild -bb --quiet \
	    --define "_topdir $(OUT)/rpm/build" --define "_rpmdir $(OUT)/rpm" \
	    --define "__brp_compress %{nil}" \
	    --define "ptf_stage $(OUT)/rpm/stage" rpm/postfix-tls-fix.spec

package-test: deps deps-package
	./Tests/package/run-package-test.sh

clean:
	rm -rf .build
