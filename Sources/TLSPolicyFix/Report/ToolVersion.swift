// ToolVersion.swift: the tool's own version, as --version and the JSON
// reports' toolVersion say it. The VERSION file at the repository's root is
// the source; this constant repeats it because SwiftPM gives a target no
// build-time way to read a file outside it, and VersionTests holds the two
// (and debian/changelog and the RPM spec) equal.

public enum ToolVersion {
    public static let current = "0.4.0"
}
