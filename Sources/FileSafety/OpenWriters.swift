// OpenWriters.swift: which other processes hold a file open for writing.
// postmap opens an index for writing before it waits for the index's lock;
// once it gets the lock it truncates and rebuilds whatever file has that
// name, from the source as it read it. A postmap waiting while apply holds
// the lock would so undo apply's new index the moment apply is done. The
// kernel keeps no list of a file's openers, so /proc/PID/fd of every
// process is looked at (all of them for root; for another user, its own).

import Glibc

/// A process, as a message names it: "postmap (pid 1234)".
public struct FileUser: Sendable, Hashable, CustomStringConvertible {
    public var pid: Int32
    public var command: String

    public var description: String { "\(command) (pid \(pid))" }
}

enum OpenWriters {
    /// The processes other than this one that have one of `files` open
    /// with write access, by the file's device and inode.
    static func of(_ files: [FileIdentity]) -> [FileIdentity.Key: [FileUser]] {
        let wanted = Set(files.map(\.key))
        guard !wanted.isEmpty, let proc = opendir("/proc") else { return [:] }
        defer { closedir(proc) }
        let own = getpid()
        var found: [FileIdentity.Key: [FileUser]] = [:]
        while let entry = readdir(proc) {
            guard let pid = Int32(name(of: entry)), pid != own else { continue }
            for (key, fd) in regularFiles(openedBy: pid) where wanted.contains(key) && isOpenForWriting(pid: pid, fd: fd) {
                let user = FileUser(pid: pid, command: command(of: pid))
                if !(found[key] ?? []).contains(user) { found[key, default: []].append(user) }
            }
        }
        return found
    }

    private static func name(of entry: UnsafeMutablePointer<dirent>) -> String {
        withUnsafePointer(to: entry.pointee.d_name) { tuple in
            tuple.withMemoryRebound(to: CChar.self, capacity: MemoryLayout.size(ofValue: tuple.pointee)) { String(cString: $0) }
        }
    }

    /// The regular files a process has open, with the descriptor's number.
    /// stat() through /proc/PID/fd/N reaches the open file itself.
    private static func regularFiles(openedBy pid: Int32) -> [(FileIdentity.Key, String)] {
        let directory = "/proc/\(pid)/fd"
        guard let fds = opendir(directory) else { return [] }
        defer { closedir(fds) }
        var result: [(FileIdentity.Key, String)] = []
        while let entry = readdir(fds) {
            let fd = name(of: entry)
            guard Int(fd) != nil else { continue }
            var st = stat()
            if stat(directory + "/" + fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG {
                result.append((FileIdentity(st).key, fd))
            }
        }
        return result
    }

    /// Whether the descriptor was opened for writing: the access mode in
    /// the octal "flags:" line of /proc/PID/fdinfo/FD.
    private static func isOpenForWriting(pid: Int32, fd: String) -> Bool {
        guard let info = smallFile("/proc/\(pid)/fdinfo/\(fd)") else { return false }
        for line in info.split(separator: "\n") where line.hasPrefix("flags:") {
            let digits = line.dropFirst("flags:".count).filter { $0 != " " && $0 != "\t" }
            guard let flags = Int32(digits, radix: 8) else { return false }
            return flags & O_ACCMODE != O_RDONLY
        }
        return false
    }

    private static func command(of pid: Int32) -> String {
        let name = smallFile("/proc/\(pid)/comm")?.filter { $0 != "\n" } ?? ""
        return name.isEmpty ? "a process" : name
    }

    private static func smallFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = read(fd, &buffer, buffer.count)
        return count < 0 ? nil : String(decoding: buffer[..<count], as: UTF8.self)
    }
}
