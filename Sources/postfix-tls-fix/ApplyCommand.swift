// ApplyCommand.swift: `apply` writes the fix atomically and rebuilds the
// indexes, then shows the diff of what it wrote.

import ArgumentParser
import PostfixTools
import TLSPolicyFix

struct ApplyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Add servername where it is missing and rebuild the indexes.",
        discussion: """
            Every file is written to a temporary file beside it, synced and renamed into \
            place; new indexes are read back before they replace the old ones. On any \
            error before the first rename nothing is replaced. Exit status: 0 success \
            (also when there was nothing to do), 2 errors (every file as it was), 3 \
            stopped after replacing some files (each named; run apply again to \
            complete, and reload when it says so).
            """)

    @ParentCommand var root: PostfixTLSFix
    @OptionGroup var ownOptions: GlobalOptions
    var options: GlobalOptions { ownOptions.merged(with: root.options) }

    @Option(
        name: .customLong("backup"), defaultAsFlag: ".bak", parsing: .next,
        help: ArgumentHelp(
            "Keep a copy of every replaced file as FILE.bak (or FILE+SUFFIX with --backup=SUFFIX); an earlier backup is never overwritten (FILE.bak.1, .2, ... instead).",
            valueName: "SUFFIX"))
    var backup: String?

    @Option(
        name: .customLong("allow-path"),
        help: ArgumentHelp(
            "Let apply write PATH (a file or a directory tree) although it lies outside the configuration directory; repeatable.", valueName: "PATH"),
        completion: .file())
    var allowPath: [String] = []

    @Flag(help: "After writing, run `postfix -c DIR reload` when the changes need it and that Postfix is running.")
    var reload = false

    @Flag(
        help: ArgumentHelp(
            "After the fix (and the reload it needs, with --reload), schedule immediate delivery (postqueue -i) of exactly the deferred messages whose certificate failure it fixes; no other queued mail is touched. Without it, apply prints the command."
        ))
    var retryDeferred = false

    @OptionGroup var evidence: EvidenceOptions

    @Option(
        help: ArgumentHelp(
            "How long to wait for a lock another program holds (another apply, postconf -e, postmap, anyone holding an index) before giving up with an error; 0: not at all.",
            valueName: "seconds"))
    var lockTimeout: Int = 60

    func validate() throws {
        if lockTimeout < 0 { throw ValidationError("--lock-timeout: \(lockTimeout) is not a number of seconds") }
        if reload && options.root != nil {
            throw ValidationError("--reload cannot reload the Postfix of a --root image")
        }
        if retryDeferred && options.root != nil {
            throw ValidationError("--retry-deferred cannot reach the mail queue of a --root image")
        }
        if let backup, backup.isEmpty || backup.contains("/") {
            throw ValidationError("--backup: the suffix must be non-empty and contain no '/'")
        }
    }

    func run() throws {
        try Command.forEachInstance(options, command: "apply", run)
    }

    /// One configuration; returns the exit status.
    func run(_ options: GlobalOptions) throws -> Int32 {
        let output = Output(options)
        var fixOptions = options.fixOptions()
        fixOptions.lockTimeout = .seconds(lockTimeout)
        let report: ApplyReport
        do {
            report = try Pipeline.apply(
                options.location, options: fixOptions, writeOptions: WriteOptions(backupSuffix: backup, allowedOutside: allowPath))
        } catch {
            try Command.fail(error, command: "apply", options: options, fixOptions: fixOptions, output: output)
        }
        let inspection = report.inspection
        MailLog.applied(report, directory: options.location.directory)
        if options.json {
            var json = JSONReport(applied: report, location: options.location, postfixVersion: fixOptions.postfixVersion)
            guard retryDeferred else {
                json.deferredMail = waitingMail(report, options: options, fixOptions: fixOptions, output: output)
                    .map { DeferredMailRecord($0, retryCommand: Command.retryCommand($0, directory: options.location.directory)) }
                output.json(json.encoded())
                return try reloadIfAsked(report, options: options, output: output, fixOptions: fixOptions)
            }
            // The retry comes after the reload, and the document tells of both:
            // the reload's words go to standard error, the document last.
            let status = try reloadIfAsked(report, options: options, output: output, fixOptions: fixOptions, toStandardError: true)
            json.deferredMail = retryWaitingMail(report, options: options, fixOptions: fixOptions, output: output)
            output.json(json.encoded())
            return status
        }
        for path in report.completedFromInterruptedApply {
            output.line("completed an interrupted earlier apply: replaced \(path)")
        }
        for path in report.abandonedFromInterruptedApply {
            output.error("\(path) changed after an earlier apply was interrupted; that apply's version of it was dropped", .warning)
        }
        output.findings(inspection.findings { $0 == .manual || $0 == .note }, split: true)
        if report.plan.isEmpty {
            output.line("nothing to do")
            return 0
        }
        output.plan(report.plan, rebuildVerb: "rebuilt")
        output.line(Self.summary(of: report))
        output.findings(report.warnings, split: true)
        for path in report.backups {
            output.line("backup: \(path)")
        }
        if report.reloadNeeded && !reload {
            output.line("run `\(Command.reloadCommand(options))` so that running Postfix daemons read the changed files")
        }
        let status = try reloadIfAsked(report, options: options, output: output, fixOptions: fixOptions)
        if retryDeferred {
            _ = retryWaitingMail(report, options: options, fixOptions: fixOptions, output: output)
        } else if let mail = waitingMail(report, options: options, fixOptions: fixOptions, output: output) {
            output.deferredMail(mail, next: Command.retryCommand(mail, directory: options.location.directory).map { "to deliver them now: \($0)" })
        }
        return status
    }

    /// "N entries changed in M files, K indexes rebuilt": each edit is an
    /// entry (a table's, or a setting of main.cf or master.cf).
    static func summary(of report: ApplyReport) -> String {
        let entries = report.plan.changes.reduce(0) { $0 + $1.edits.count }
        let (files, indexes) = (report.writtenFiles.count, report.rebuiltIndexes.count)
        return "\(entries) entr\(entries == 1 ? "y" : "ies") changed in \(files) file\(files == 1 ? "" : "s"), "
            + "\(indexes) index\(indexes == 1 ? "" : "es") rebuilt"
    }

    /// --reload: reloads a running Postfix when the changes need it.
    func reloadIfAsked(
        _ report: ApplyReport, options: GlobalOptions, output: Output, fixOptions: FixOptions, toStandardError: Bool = false
    ) throws -> Int32 {
        guard reload, report.reloadNeeded else { return 0 }
        let say = toStandardError ? { (text: String) in Output.write(Array((text + "\n").utf8), to: 2) } : output.line
        do {
            switch try PostfixInstallation.reloadIfRunning(configDirectory: options.location.directory) {
            case .reloaded: say("reloaded: postfix -c \(options.location.directory) reload")
            case .notRunning: say("Postfix (\(options.location.directory)) is not running; it reads the changes when it starts")
            }
        } catch {
            try Command.fail(.apply(.reloadFailed(error)), command: "apply", options: options, fixOptions: fixOptions, output: output)
        }
        return 0
    }
}

extension ApplyCommand {
    /// The deferred mail waiting for what this apply fixed: its findings,
    /// matched against the configuration as it is now (the fix appends
    /// attributes and lines; keys and line numbers stay).
    func waitingMail(_ report: ApplyReport, options: GlobalOptions, fixOptions: FixOptions, output: Output) -> DeferredMail? {
        guard !report.plan.isEmpty else { return nil }
        return Command.deferredMail(
            options.location, configuration: try? Configuration.load(options.location, defaults: fixOptions.parameterDefaults),
            findings: report.inspection.findings { $0 == .fixable }, fixOptions: fixOptions, mailLog: evidence.mailLog, output: output)
    }

    /// --retry-deferred: schedules exactly the queued messages that waited
    /// for this fix, once the fix is in force (after the reload it needs),
    /// and says what it did. Returns the evidence with what was scheduled.
    func retryWaitingMail(_ report: ApplyReport, options: GlobalOptions, fixOptions: FixOptions, output: Output) -> DeferredMailRecord? {
        let directory = options.location.directory
        guard let mail = waitingMail(report, options: options, fixOptions: fixOptions, output: output), !mail.queuedIDs.isEmpty else {
            if !options.json { output.line("--retry-deferred: no queued message was waiting for this fix") }
            return nil
        }
        let command = Command.retryCommand(mail, directory: directory)
        guard !report.reloadNeeded || reload else {
            // Scheduled now, they would meet the daemons that still run the old settings.
            if !options.json {
                output.deferredMail(
                    mail, next: "not scheduled: the fix takes effect after `postfix -c \(directory) reload`; then run: \(command ?? "")")
            }
            return DeferredMailRecord(mail, retried: [], retryCommand: command)
        }
        var scheduled: [String] = []
        for queueID in mail.queuedIDs {
            do {
                try PostQueue.scheduleDelivery(queueID: queueID, configDirectory: directory)
                scheduled.append(queueID)
            } catch {
                output.error("warning: \(EvidenceError.retryFailed(queueID: queueID, error))")
            }
        }
        guard !options.json else { return DeferredMailRecord(mail, retried: scheduled, retryCommand: command) }
        output.deferredMail(mail, next: nil)
        output.line(
            "scheduled \(scheduled.count) deferred message\(scheduled.count == 1 ? "" : "s") for immediate delivery: "
                + PostQueue.scheduleCommand(queueIDs: scheduled, configDirectory: directory))
        return DeferredMailRecord(mail, retried: scheduled, retryCommand: command)
    }
}
