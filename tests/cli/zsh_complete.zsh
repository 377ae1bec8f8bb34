# What zsh's completion offers for command lines, for completion.test.mjs:
#   zsh -f zsh_complete.zsh FPATH_DIR 'epilot-action verify --for' ...
# An interactive zsh on a pseudo-terminal loads the script from FPATH_DIR
# through compinit, as an installed one is loaded, then for each line gets
# the line and a TAB. Every match its completion adds is printed as a line
# "<<OFFER words>>", and each line's matches end with "<<DONE>>".
zmodload zsh/zpty
zpty shell zsh -f -i
zpty -w shell "fpath=(${(q)1} \$fpath); autoload -Uz compinit; compinit -u -D"
zpty -w shell 'compadd() { local -a m; builtin compadd -O m "$@"; (( $#m )) && print -r -- "<<OFFER ${m[*]}>>"; builtin compadd "$@" }'
# Typed ahead, a line can be thrown away when zle starts: each line waits for
# the prompt. (Markers are written split in two, so that the shell's echo of
# the command that prints one does not match.)
zpty -w shell 'PS1="<<PRO""MPT>> "; print -r -- "<<READY"">>"'
zpty -r shell output '*<<READY>>*'
zpty -r shell output '*<<PROMPT>>*'
for line in "${@[2,-1]}"; do
  # The line, a TAB; then Ctrl-U empties the line and a marker says it is over.
  zpty -n -w shell "$line"$'\t'
  zpty -n -w shell $'\x15print -r -- "<<DONE"">>"\n'
  zpty -r shell output '*<<DONE>>*'
  print -r -- "$output"
  zpty -r shell output '*<<PROMPT>>*'
done
zpty -d shell
