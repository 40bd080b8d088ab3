// node-llama-cpp's JSON grammars end their root rule with a run of newlines that its own chat
// loop uses as a stop trigger. Skillet's loop stops at the grammar's end instead (llama.cpp then
// only allows an end-of-generation token), so that tail is cut off.
export function closedGrammar(grammar: string): string {
  return grammar.replace(/^(root\s*::=.*?)\s*"(?:\\n){2,}"\s*\[\\n\]\*\s*$/m, '$1')
}
