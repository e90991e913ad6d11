// Fills the ids (and the decoded text) of every fixture's expected_ids.json with the Hugging Face tokenizers
// library (npm package "tokenizers"): encode(text, add_special_tokens = false), decode(ids, skip_special_tokens = false).
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
const require = createRequire(process.env.TOKENIZERS_MODULE ?? import.meta.url);
const { Tokenizer } = require("tokenizers");
const here = path.dirname(new URL(import.meta.url).pathname);
for (const name of fs.readdirSync(here)) {
  const folder = path.join(here, name);
  const expected = path.join(folder, "expected_ids.json");
  if (!fs.existsSync(expected)) continue;
  const tokenizer = Tokenizer.fromFile(path.join(folder, "tokenizer.json"));
  const cases = JSON.parse(fs.readFileSync(expected, "utf8"));
  for (const c of cases) {
    const encoding = await tokenizer.encode(c.text, null, { addSpecialTokens: false });
    c.ids = encoding.getIds();
    c.decoded = await tokenizer.decode(c.ids, false);
  }
  fs.writeFileSync(expected, JSON.stringify(cases, null, 1) + "\n");
  console.log(name, cases.length);
}
