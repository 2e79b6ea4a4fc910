"""``diaspora-ctl completion bash|zsh``: print a shell completion script.

Usage: ``source <(diaspora-ctl completion bash)`` in ``~/.bashrc``, or
``diaspora-ctl completion zsh > "${fpath[1]}/_diaspora-ctl"`` for zsh.
"""

from __future__ import annotations

from collections.abc import Sequence

from .parsing import LOG_LEVELS, ArgumentParser

__all__ = ["OPTIONS", "bash_script", "completion_command", "zsh_script"]

_DRIVER = ("--driver", "--driver-config")
_HIERARCHICAL = ("--driver.", "--topic.", "--validator.", "--serializer.", "--partition-selector.")
_COMMON = ("--logging", "--help", "--version")

#: Options of each (sub-)command, for completion.
OPTIONS: dict[str, tuple[str, ...]] = {
    "topic create": (
        *_DRIVER,
        "--name",
        "--topic-config",
        "--validator",
        "--serializer",
        "--partition-selector",
        *_HIERARCHICAL,
        *_COMMON,
    ),
    "topic list": (*_DRIVER, "--verbose", *_HIERARCHICAL, *_COMMON),
    "topic info": (*_DRIVER, "--name", "--consumer", "--wait-ms", "--json", "--driver.", *_COMMON),
    "fifo": (*_DRIVER, "--control-file", "--driver.", *_COMMON),
    "forward": ("--config", *_COMMON),
    "completion": ("--help", "--version"),
}
_FILE_OPTIONS = ("--driver-config", "--topic-config", "--config", "--control-file")
_DRIVERS = ("files", "memory")


def bash_script() -> str:
    """The bash completion script."""
    cases = "\n".join(
        f'        "{command}") opts="{" ".join(options)}" ;;'
        for command, options in OPTIONS.items()
    )
    return f"""# bash completion for diaspora-ctl (diaspora-ctl completion bash)
_diaspora_ctl() {{
    local cur prev command opts
    cur="${{COMP_WORDS[COMP_CWORD]}}"
    prev="${{COMP_WORDS[COMP_CWORD-1]}}"
    if [[ $COMP_CWORD -eq 1 ]]; then
        COMPREPLY=($(compgen -W "topic fifo forward completion --help --version" -- "$cur"))
        return
    fi
    command="${{COMP_WORDS[1]}}"
    if [[ $command == topic ]]; then
        if [[ $COMP_CWORD -eq 2 ]]; then
            COMPREPLY=($(compgen -W "create list info" -- "$cur"))
            return
        fi
        command="topic ${{COMP_WORDS[2]}}"
    fi
    if [[ $command == completion && $COMP_CWORD -eq 2 ]]; then
        COMPREPLY=($(compgen -W "bash zsh" -- "$cur"))
        return
    fi
    case "$prev" in
        {"|".join(_FILE_OPTIONS)})
            COMPREPLY=($(compgen -f -- "$cur"))
            return ;;
        --logging)
            COMPREPLY=($(compgen -W "{" ".join(LOG_LEVELS)}" -- "$cur"))
            return ;;
        --driver)
            COMPREPLY=($(compgen -W "{" ".join(_DRIVERS)}" -- "$cur"))
            return ;;
    esac
    case "$command" in
{cases}
        *) opts="--help" ;;
    esac
    compopt -o nospace 2>/dev/null
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
    if [[ ${{#COMPREPLY[@]}} -eq 1 && ${{COMPREPLY[0]}} != *. ]]; then
        COMPREPLY[0]="${{COMPREPLY[0]}} "
    fi
}}
complete -F _diaspora_ctl diaspora-ctl
"""


def zsh_script() -> str:
    """The zsh completion script."""
    cases = "\n".join(
        f"        '{command}') opts=({' '.join(options)}) ;;"
        for command, options in OPTIONS.items()
    )
    return f"""#compdef diaspora-ctl
# zsh completion for diaspora-ctl (diaspora-ctl completion zsh)
_diaspora_ctl() {{
    local command
    local -a opts
    if (( CURRENT == 2 )); then
        compadd -- topic fifo forward completion --help --version
        return
    fi
    command=${{words[2]}}
    if [[ $command == topic ]]; then
        if (( CURRENT == 3 )); then
            compadd -- create list info
            return
        fi
        command="topic ${{words[3]}}"
    fi
    if [[ $command == completion ]] && (( CURRENT == 3 )); then
        compadd -- bash zsh
        return
    fi
    case ${{words[CURRENT-1]}} in
        {"|".join(_FILE_OPTIONS)}) _files; return ;;
        --logging) compadd -- {" ".join(LOG_LEVELS)}; return ;;
        --driver) compadd -- {" ".join(_DRIVERS)}; return ;;
    esac
    case $command in
{cases}
        *) opts=(--help) ;;
    esac
    compadd -- $opts
}}
if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
    _diaspora_ctl "$@"
else
    compdef _diaspora_ctl diaspora-ctl
fi
"""


def completion_command(argv: Sequence[str]) -> int:
    """Run ``completion SHELL``: print the script for ``bash`` or ``zsh``."""
    parser = ArgumentParser(
        "diaspora-ctl completion",
        "Print a shell completion script.\n\n"
        "bash: source <(diaspora-ctl completion bash)        (e.g. in ~/.bashrc)\n"
        'zsh:  diaspora-ctl completion zsh > "${fpath[1]}/_diaspora-ctl"',
    )
    parser.add_argument("shell", choices=("bash", "zsh"), help="the shell")
    args = parser.parse_args(argv)
    print(bash_script() if args.shell == "bash" else zsh_script(), end="", flush=True)
    return 0
