#!/bin/sh
# build-release.sh: the one release build that `make install`, `make deb`
# (debian/rules) and `make rpm` ship. The Swift runtime and
# FoundationEssentials are linked statically and the binary is stripped, so
# it needs only libc, libm, libstdc++, libgcc_s and libdb and libicu and nothing below /opt/swift: no RUNPATH at all
# (--disable-local-rpath drops SwiftPM's $ORIGIN, which lintian rejects).
# It is linked with immediate binding (-z now), so that its relocations are
# all resolved at start and read-only afterwards (full RELRO).
#
# It builds in its own scratch directory, .build-release: a plain
# `swift build -c release` (make bench, the generate-manual plugin) in
# .build links against the shared runtime, and SwiftPM keeps one build
# description per configuration without noticing that the link flags
# changed, so sharing that directory can silently ship a binary that needs
# the toolchain. The dependencies resolve as for any build (Package.swift
# pins their versions).
#
# Usage: scripts/build-release.sh [EXTRA swift build ARGUMENTS...]
# Prints nothing but SwiftPM's progress; the binary is
# .build-release/release/postfix-tls-fix (SCRATCH overrides the directory).
set -eu

cd "$(dirname "$0")/.."
scratch=${SCRATCH:-.build-release}
swift build --scratch-path "$scratch" -c release --product postfix-tls-fix \
    --static-swift-stdlib --disable-local-rpath -Xlinker -s -Xlinker -z -Xlinker now "$@"
