// Half-typed TeX made typesettable while a formula streams in, so it shows as a formula that
// grows rather than as a red error: see `healTex`.

/**
 * Half-typed TeX made typesettable: a partial command, a dangling `^`/`_`, open groups,
 * `\left` without `\right` and `\begin{…}` without `\end{…}` are trimmed or closed.
 */
export function healTex(tex: string): string {
  let t = tex.trimEnd();
  const command = /\\+[A-Za-z]*$/.exec(t);
  if (command) {
    const slashes = /^\\+/.exec(command[0])![0].length;
    if (slashes % 2 === 1) t = t.slice(0, command.index + slashes - 1);
  }
  t = t
    .replace(/\\(?:begin|end)\s*\{[^}]*$/, "")
    .replace(/(?<!\\)[\^_]\s*$/, "")
    .trimEnd();

  const open: string[] = [];
  for (let i = 0; i < t.length; i++) {
    const ch = t[i];
    if (ch === "\\") {
      const name = /^[A-Za-z]+/.exec(t.slice(i + 1, i + 40))?.[0];
      if (!name) {
        i++;
        continue;
      }
      if (name === "left") open.push("\\right.");
      else if (name === "right" && open[open.length - 1] === "\\right.") open.pop();
      else if (name === "begin" || name === "end") {
        const env = /^\s*\{([^}]*)\}/.exec(t.slice(i + 1 + name.length));
        if (env) {
          if (name === "begin") open.push(`\\end{${env[1]}}`);
          else if (open[open.length - 1] === `\\end{${env[1]}}`) open.pop();
          i += env[0].length;
        }
      }
      i += name.length;
    } else if (ch === "{") {
      open.push("}");
    } else if (ch === "}" && open[open.length - 1] === "}") {
      open.pop();
    }
  }
  t += open.reverse().join("");
  return t + missingArguments(t);
}

// Commands whose arguments are still to come when the text stops right after them.
const ARGUMENTS: Record<string, number> = {
  frac: 2,
  dfrac: 2,
  tfrac: 2,
  cfrac: 2,
  binom: 2,
  dbinom: 2,
  tbinom: 2,
  overset: 2,
  underset: 2,
  stackrel: 2,
  sqrt: 1,
  text: 1,
  textbf: 1,
  textit: 1,
  mathrm: 1,
  mathbf: 1,
  mathit: 1,
  mathcal: 1,
  mathbb: 1,
  mathsf: 1,
  mathtt: 1,
  boldsymbol: 1,
  operatorname: 1,
  hat: 1,
  bar: 1,
  vec: 1,
  dot: 1,
  ddot: 1,
  tilde: 1,
  widehat: 1,
  widetilde: 1,
  overline: 1,
  underline: 1,
  overbrace: 1,
  underbrace: 1,
};

/** Empty groups for the arguments the last command is still missing ("\frac{a}" → "{}"). */
function missingArguments(t: string): string {
  let last: RegExpExecArray | null = null;
  for (const match of t.matchAll(/\\([A-Za-z]+)/g)) last = match as RegExpExecArray;
  const needed = last ? ARGUMENTS[last[1]!] : undefined;
  if (!last || needed === undefined) return "";
  let i = last.index + last[0].length;
  let found = 0;
  while (i < t.length) {
    const ch = t[i]!;
    if (/\s/.test(ch)) {
      i++;
    } else if (ch === "[" && found === 0 && last[1] === "sqrt") {
      const end = t.indexOf("]", i);
      if (end < 0) return "";
      i = end + 1;
    } else if (ch === "{") {
      let depth = 0;
      let j = i;
      for (; j < t.length; j++) {
        if (t[j] === "\\") j++;
        else if (t[j] === "{") depth++;
        else if (t[j] === "}" && --depth === 0) break;
      }
      if (j >= t.length) return "";
      found++;
      i = j + 1;
    } else {
      found++; // a single-token argument, as in \frac12
      i++;
    }
  }
  return "{}".repeat(Math.max(0, needed - found));
}
