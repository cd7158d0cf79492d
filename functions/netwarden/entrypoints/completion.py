"""``netwarden completion bash|zsh``: a shell completion script made from the parser itself, so that it
completes exactly the commands, subcommands and options the installed netwarden has.

It completes words, not values (file names are left to the shell's default completion), which is
what argparse can give cheaply; zsh runs the bash script through ``bashcompinit``.
"""

from __future__ import annotations

import argparse


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _options(parser: argparse.ArgumentParser) -> list[str]:
    return sorted({s for a in parser._actions for s in a.option_strings if s.startswith("--")})


def words(parser: argparse.ArgumentParser) -> dict[str, list[str]]:
    """What may follow each command path (``""``: the top level; ``"baseline"``; ``"baseline lint"``)."""
    out: dict[str, list[str]] = {}

    def walk(path: str, p: argparse.ArgumentParser) -> None:
        children = _subcommands(p)
        out[path] = sorted(children) + _options(p)
        for name, child in children.items():
            walk(f"{path} {name}".strip(), child)

    walk("", parser)
    return out


def script(parser: argparse.ArgumentParser, shell: str) -> str:
    cases = "\n".join(f'    "{path}") opts="{" ".join(options)}" ;;' for path, options in sorted(words(parser).items())
                      if path)
    body = f"""_netwarden() {{
  local cur="${{COMP_WORDS[COMP_CWORD]}}" path="" word opts i
  for ((i = 1; i < COMP_CWORD; i++)); do
    word="${{COMP_WORDS[i]}}"
    case "$word" in -*) ;; *) path="${{path:+$path }}$word" ;; esac
  done
  case "$path" in
{cases}
    *) opts="{" ".join(words(parser)[""])}" ;;
  esac
  COMPREPLY=($(compgen -W "$opts" -- "$cur"))
}}
complete -o default -F _netwarden netwarden"""
    if shell == "zsh":
        return "autoload -U +X bashcompinit && bashcompinit\n" + body
    return body
