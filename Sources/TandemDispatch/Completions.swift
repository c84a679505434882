import Foundation

/// Shell completions for `tandem`: stage names (built-in and third-party), then each stage's subcommands and
/// flags, read from the stage's own `--help` when you press Tab (so they never go stale).
enum Completions {
    static func script(_ shell: String) -> String? {
        switch shell {
        case "bash": bash
        case "zsh": "autoload -U +X bashcompinit && bashcompinit\n" + bash
        case "fish": fish
        default: nil
        }
    }

    static let bash = """
        # tandem completion (bash): source <(tandem completions bash)
        _tandem() {
          local cur="${COMP_WORDS[COMP_CWORD]}"
          if [ "$COMP_CWORD" -eq 1 ]; then
            COMPREPLY=($(compgen -W "$(tandem __stages 2>/dev/null)" -- "$cur"))
            return
          fi
          local stage="${COMP_WORDS[1]}" sub=""
          if [ "$COMP_CWORD" -ge 3 ]; then sub="${COMP_WORDS[2]}"; fi
          COMPREPLY=($(compgen -W "$(tandem __complete "$stage" $sub 2>/dev/null)" -- "$cur"))
        }
        complete -F _tandem tandem

        """

    static let fish = """
        # tandem completion (fish): tandem completions fish | source
        function __tandem_complete
            set -l tokens (commandline -opc)
            if test (count $tokens) -eq 1
                tandem __stages
            else
                tandem __complete $tokens[2..3]
            end
        end
        complete -c tandem -f -a '(__tandem_complete)'

        """

    /// Subcommands and flags of `tandem STAGE [SUB]`, from its `--help`.
    static func words(helpText: String, includeSubcommands: Bool) -> [String] {
        var words: [String] = []
        var inSubcommands = false
        for line in helpText.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("SUBCOMMANDS:") {
                inSubcommands = true
                continue
            }
            if inSubcommands {
                if line.isEmpty || !line.hasPrefix("  ") {
                    inSubcommands = false
                } else if includeSubcommands, !line.hasPrefix("   "), let word = line.split(separator: " ").first,
                    !word.hasPrefix("-")
                {

                    words.append(String(word))
                }
            }
            for token in line.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "<" || $0 == "=" })
            where token.hasPrefix("--") {
                let flag = String(token.prefix { $0 != ")" && $0 != "]" })
                if flag.count > 2, !words.contains(flag) { words.append(flag) }
            }
        }
        return words
    }
}
