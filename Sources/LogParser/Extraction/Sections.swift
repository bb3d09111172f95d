import Foundation
import Knowledge
import ScanModel

extension Analyzer {
    // MARK: - Sections and columns

    /// Whether a record is inside a firewall section: an enclosing step, task or MSI action about the
    /// firewall, an XML element path that names it, or (plain text) a paragraph after a line about it.
    func isFirewallSection(_ draft: RecordDraft, _ record: () -> Record, _ state: inout InputState) -> Bool {
        // The answer for a context is kept until the context changes (records share its storage).
        if state.sectionContext != draft.context {
            state.sectionContext = draft.context
            state.contextIsSection = extractor.isSection(draft.context)
        }
        if state.contextIsSection { return true }
        if !draft.fields.isEmpty, extractor.namesSection(record().text) { return true }
        return state.textSection || state.documentSection
    }

    /// Whether a record is free text, whose structure is its lines: plain text, or the text and
    /// continuation lines of an MSI log.
    static func isFreeText(_ draft: RecordDraft) -> Bool {
        draft.format == .plainText
            || (draft.format == .msiVerbose && (draft.kind == .text || draft.kind == .continuation))
    }

    /// Follows plain-text structure: a first line (the log's title) about the firewall scopes the
    /// whole log up to the next heading; a heading ending in ":" about the firewall scopes the lines
    /// under it up to a blank line, and one about something else ends both; a line about the firewall
    /// scopes its paragraph.
    func followParagraphs(
        _ draft: RecordDraft, passesPrefilter: Bool, _ record: () -> Record, _ state: inout InputState
    ) {
        guard Self.isFreeText(draft) else {
            if draft.format == .msiVerbose { state.textSection = false }
            return
        }
        let trimmed = Bytes.trimmed(draft.buffer)
        if trimmed.isEmpty {
            // A list under "…opened:" may start after a blank line; any other blank line ends a paragraph.
            if !state.lastEndedWithColon {
                state.textSection = false
                state.paragraphSection = false
                state.paragraphEntry = false
            }
            state.columns = nil
            state.paragraphStart = true
            return
        }
        // Titles and headings are plain text's; an MSI log's structure is its actions.
        let isTitle = !state.sawText && draft.format == .plainText
        let endsWithColon = trimmed.last == UInt8(ascii: ":")
        state.sawText = true
        if isTitle || (draft.format == .plainText && endsWithColon && state.paragraphStart) {
            // A title, or a heading that starts a paragraph: it says what the lines under it are — a
            // firewall section when it speaks of the firewall and of its exceptions or rules.
            let text = record().text
            let names = extractor.namesSection(text) && extractor.namesEntryWord(text)
            state.textSection = names
            state.paragraphSection = names
            state.paragraphEntry = names
            if isTitle || !names { state.documentSection = names }
        } else if passesPrefilter {
            // A paragraph that speaks of the firewall and of exceptions or rules, in any of its lines
            // ("Configuring Windows Firewall" / "The following exceptions were opened:").
            let text = record().text
            if extractor.namesSection(text) { state.paragraphSection = true }
            if extractor.namesEntryWord(text) { state.paragraphEntry = true }
            if state.paragraphSection && state.paragraphEntry { state.textSection = true }
        }
        state.lastEndedWithColon = endsWithColon
        state.paragraphStart = false
    }

    /// Columns of text: a header line of tab- or space-separated field names (Name, Protocol, Port…)
    /// names the cells of the lines under it. Returns the fields of a row (nil for other lines; the
    /// header line itself gives an empty list, so that it counts as understood).
    func columnFields(_ draft: RecordDraft, _ record: () -> Record, _ state: inout InputState) -> [RecordField]? {
        guard Self.isFreeText(draft) else {
            return nil
        }
        let bytes = draft.buffer
        let hasTab = bytes.contains(0x09)
        let hasGap = Bytes.find("  ", in: bytes) != nil
        if let columns = state.columns {
            if draft.line == columns.lastLine + 1 {
                let text = record().text
                // A ruler under the header ("-----  ----") keeps the columns.
                if text.allSatisfy({ $0 == "-" || $0 == "=" || $0 == " " || $0 == "\t" }) {
                    state.columns?.lastLine = draft.line
                    return []
                }
                let cells = Self.cells(text, starts: columns.starts)
                if cells.count >= 2, cells.count <= columns.names.count {
                    state.columns?.lastLine = draft.line
                    return zip(columns.names, cells).filter { !$0.1.isEmpty }.map {
                        RecordField(name: $0.0, value: $0.1)
                    }
                }
            }
            state.columns = nil
        }
        guard hasTab || hasGap else { return nil }
        let text = record().text
        let starts = hasTab ? nil : Self.columnStarts(text)
        let names = Self.cells(text, starts: starts)
        let vocabulary = knowledge.vocabulary
        let named = names.compactMap { vocabulary.field(forKey: $0) }
        guard names.count >= 2, named.count >= 2, named.contains(where: { $0 == .port || $0 == .protocol }),
            !names.contains(where: { $0.contains(where: \.isNumber) })
        else { return nil }
        state.columns = (names, starts, draft.line)
        return []
    }

    /// Where the columns of a space-aligned header line start (in characters): after runs of two
    /// or more spaces.
    static func columnStarts(_ text: String) -> [Int] {
        var starts: [Int] = []
        var spaces = 2
        for (offset, character) in text.enumerated() {
            if character == " " {
                spaces += 1
            } else {
                if spaces >= 2 { starts.append(offset) }
                spaces = 0
            }
        }
        return starts
    }

    /// The cells of a line: split at tabs, or cut at the header's column starts (a cell may be empty).
    static func cells(_ text: String, starts: [Int]?) -> [String] {
        guard let starts else {
            return text.split(separator: "\t", omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
        }
        let characters = Array(text)
        var cells: [String] = []
        for (index, start) in starts.enumerated() {
            let end = index + 1 < starts.count ? starts[index + 1] : characters.count
            guard start < characters.count else {
                cells.append("")
                continue
            }
            cells.append(String(characters[start..<min(end, characters.count)]).trimmingCharacters(in: .whitespaces))
        }
        // A row whose text does not fit the columns (words across a column start) is no row.
        for start in starts.dropFirst() where start < characters.count && start > 0 {
            if characters[start - 1] != " " { return [] }
        }
        return cells
    }
}
