#!/usr/bin/env python3
"""A tiny SentencePiece tokenizer.model as Llama 2 and Mistral ship theirs, and the ids SentencePiece itself gives
edge-case texts (Debian python3-sentencepiece 0.1.97, Google's own implementation): the reference for the service's
tokenizer.model reader (docs/algorithm.md, "Tokenizers").

Trained as Meta trained Llama 2's: BPE, byte_fallback (a character not in the vocabulary becomes its UTF-8 bytes
<0x..>), split_digits, add_dummy_prefix (a space before the text), identity normalisation, no whitespace collapsing,
<unk> 0, <s> 1, </s> 2; 320 pieces (the 256 bytes, the corpus's characters, a few dozen merges). Writes
AdaMerging.Tests/Fixtures/llama_tiny/llama2_sentencepiece/{tokenizer.model, tokens.json}: each case's ids with <s>
first, truncated to 16 (the text's end cut), and its ids without specials.
Usage: /usr/bin/python3 tools/make_sentencepiece_fixture.py
"""
import io
import json
import os
import sys

import sentencepiece as spm

sys.path.insert(0, os.path.dirname(__file__))
from make_gpt2_fixture import TEXTS  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "AdaMerging.Tests", "Fixtures", "llama_tiny", "llama2_sentencepiece")
MAX_LENGTH = 16
CORPUS = [
    "the model merges the task vectors of every fine-tuned model into one model",
    "a merged model serves all the tasks its experts were trained for",
    "merging the models of the tasks with learned coefficients",
    "The quick brown fox jumps over the lazy dog 0123456789 times",
    "it's the model's merge and they're the tasks' merges",
] * 40


def main():
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(CORPUS), model_writer=model, model_type="bpe", vocab_size=320,
                                   byte_fallback=True, split_digits=True, add_dummy_prefix=True, normalization_rule_name="identity",
                                   remove_extra_whitespaces=False, unk_id=0, bos_id=1, eos_id=2, pad_id=-1, character_coverage=1.0,
                                   hard_vocab_limit=False, num_threads=1, minloglevel=2)
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "tokenizer.model"), "wb") as f:
        f.write(model.getvalue())
    sp = spm.SentencePieceProcessor(model_proto=model.getvalue())
    texts = TEXTS + ["It'S 1234567 THE'LL don't", " leading space", "ends with space ", "merge\n\nlines", "Ünïcode — ∑ 🙂"]
    cases = [{"text": t, "ids": ([sp.bos_id()] + sp.encode(t))[:MAX_LENGTH], "plain": sp.encode(t)} for t in texts]
    with open(os.path.join(OUT, "tokens.json"), "w", encoding="utf-8") as f:
        json.dump({"max_length": MAX_LENGTH, "vocab_size": sp.get_piece_size(), "cases": cases}, f, ensure_ascii=False, indent=1)


if __name__ == "__main__":
    main()
