# bash completion for pktscope -*- shell-script -*-
# Thin on purpose: the binary knows every object, verb, keyword and value
# (plugins included) and answers `pktscope __complete WORDS... CUR`.
_pktscope()
{
    local line="${COMP_LINE:0:COMP_POINT}" cur=""
    local -a words
    read -ra words <<< "$line"
    [[ "$line" == *[[:space:]] ]] || { cur="${words[-1]}"; unset 'words[-1]'; }

    local IFS=$'\n' cands
    cands=$("${words[0]}" __complete "${words[@]:1}" "$cur" 2>/dev/null) || return 0
    if [[ $'\n'"$cands"$'\n' == *$'\n@file\n'* ]]; then
        compopt -o filenames 2>/dev/null
        COMPREPLY=( $(compgen -f -- "$cur") )
        return 0
    fi
    if [[ $'\n'"$cands"$'\n' == *$'\n@dir\n'* ]]; then
        compopt -o filenames 2>/dev/null
        COMPREPLY=( $(compgen -d -- "$cur") )
        return 0
    fi
    COMPREPLY=( $(compgen -W "$cands" -- "$cur") )
}
complete -F _pktscope pktscope
