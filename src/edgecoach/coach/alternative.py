"""An alternative generator: any ONNX causal LM with a Hugging Face tokenizer.json.

The directory holds `model.onnx` (input `input_ids` [batch, seq] int64, optionally
`attention_mask`; first output logits [batch, seq, vocab]) and `tokenizer.json`. The
prompt is the trigger's promptTemplate with the context's values; the model writes the
line itself, so its numbers are checked against the context (grounding) before use.
Decoding recomputes the whole sequence each step (no KV cache): fine for small models.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import onnxruntime as ort

from edgecoach.coach.model import file_sha256, open_session
from edgecoach.contract import Persona, Trigger
from edgecoach.errors import ModelError

if TYPE_CHECKING:
    from tokenizers import Tokenizer

MODEL_NAME = "model.onnx"
TOKENIZER_NAME = "tokenizer.json"
EOS_CANDIDATES = ("</s>", "<|endoftext|>", "<eos>", "<|end|>")
PROMPT_SLOT_RE = re.compile(r"\{([a-z_]+)\}")


def prompt_for(persona: str, trigger: Trigger, values: Mapping[str, str],
               profile: Persona | None = None) -> str:
    """'Coach aiden (<style>). <training prompts> <promptTemplate filled>\nCoach:'.

    Unknown values read 'unknown'; without a profile the style and prompts are left out.
    """
    filled = PROMPT_SLOT_RE.sub(
        lambda match: persona if match.group(1) == "persona"
        else values.get(match.group(1), "unknown"), trigger.prompt_template)
    if profile is None:
        return f"Coach {persona}. {filled}\nCoach:"
    guidance = " ".join(profile.training_prompts)
    return (f"Coach {persona} ({profile.communication_style}). {guidance} {filled}"
            .replace("  ", " ") + "\nCoach:")


@dataclass
class CausalLM:
    session: ort.InferenceSession
    tokenizer: "Tokenizer"
    eos_id: int | None
    version: str
    wants_mask: bool

    @classmethod
    def load(cls, directory: Path) -> "CausalLM":
        model_path, tokenizer_path = directory / MODEL_NAME, directory / TOKENIZER_NAME
        for path in (model_path, tokenizer_path):
            if not path.is_file():
                raise ModelError(f"{path}: alternative model file missing")
        # Here: without an alternative model the daemon does not hold tokenizers (5 MB).
        from tokenizers import Tokenizer

        try:
            tokenizer = Tokenizer.from_file(str(tokenizer_path))
        except Exception as error:  # tokenizers raises a bare Exception on bad files
            raise ModelError(f"{tokenizer_path}: cannot load tokenizer: {error}") from None
        session = open_session(model_path)
        names = [i.name for i in session.get_inputs()]
        if "input_ids" not in names:
            raise ModelError(f"{model_path}: no input_ids input (found {names})")
        eos = next((tokenizer.token_to_id(t) for t in EOS_CANDIDATES
                    if tokenizer.token_to_id(t) is not None), None)
        version = f"{directory.name}-{file_sha256(model_path)[:12]}"
        return cls(session, tokenizer, eos, version, "attention_mask" in names)

    def generate(self, prompt: str, rng: np.random.Generator, max_tokens: int,
                 temperature: float) -> tuple[str, int, int]:
        """(text, prompt tokens, generated tokens); stops at EOS or a newline."""
        ids = list(self.tokenizer.encode(prompt).ids)
        prompt_len = len(ids)
        new: list[int] = []
        for _ in range(max_tokens):
            feed = {"input_ids": np.array([ids], dtype=np.int64)}
            if self.wants_mask:
                feed["attention_mask"] = np.ones((1, len(ids)), dtype=np.int64)
            logits = self.session.run(None, feed)[0][0, -1].astype(np.float64)
            scaled = (logits - logits.max()) / max(temperature, 1e-3)
            probs = np.exp(scaled)
            token = int(rng.choice(len(probs), p=probs / probs.sum()))
            if token == self.eos_id or "\n" in self.tokenizer.decode([token]):
                break
            ids.append(token)
            new.append(token)
        return self.tokenizer.decode(new).strip(), prompt_len, len(new)


