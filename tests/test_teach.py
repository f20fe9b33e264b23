"""Teaching output: explanation texts, lessons, the SVG graph and --teach comments (no framework needed)."""

from __future__ import annotations

import ast
import re
import xml.etree.ElementTree as ET
from functools import cache
from pathlib import Path

import pytest

from specc import pipeline
from specc.callable import ACTIVATIONS
from specc.cli import main
from specc.ir import Program
from specc.layers import LAYERS
from specc.losses import LOSSES
from specc.optimizers import OPTIMIZERS
from specc.regularizers import REGULARIZERS
from specc.teach import comments, concepts, graph, lesson, texts

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.spec"))
LANGS = ("en", "ko")
SVG = "{http://www.w3.org/2000/svg}"
# The seed notes' Korean terms, which the Korean texts must use.
KOREAN_TERMS = (
    "활성화 함수",
    "손실 함수",
    "옵티마이저",
    "규제",
    "드롭아웃",
    "전이 학습",
    "특징 추출",
    "파인튜닝",
    "기울기 소실",
)


@cache
def load(path: Path) -> Program:
    return pipeline.load(path)


def write_spec(tmp_path: Path, text: str, name: str = "t.spec") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# -- texts ------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_every_concept_has_texts(lang: str) -> None:
    seen: dict[str, set[str]] = {"title": set(), "short": set(), "text": set()}
    for key in texts.keys():
        item = texts.concept(key, lang)
        for field in seen:
            value = getattr(item, field)
            assert value.strip(), f"{key}.{lang}.{field} is empty"
            assert value not in seen[field], f"{key}.{lang}.{field} duplicates another concept"
            seen[field].add(value)
        assert item.formula.strip(), f"{key}: no formula"
        if lang == "en":
            assert item.formula.isascii(), f"{key}: the shared formula must be ASCII"
        assert "\n" not in item.short
        if lang == "ko":
            assert re.search("[가-힣]", item.title + item.text), f"{key}: Korean text expected"


def test_ui_strings_in_both_languages() -> None:
    assert texts.ui_keys("en") == texts.ui_keys("ko")
    assert texts.note_keys("en") == texts.note_keys("ko")
    for lang in LANGS:
        assert all(texts.ui(key, lang).strip() for key in texts.ui_keys(lang))


def test_korean_uses_the_notes_terms() -> None:
    korean = " ".join(texts.concept(k, "ko").text + texts.concept(k, "ko").title for k in texts.keys())
    for term in KOREAN_TERMS:
        assert term in korean, term


def test_every_language_feature_has_a_concept() -> None:
    keys = set(texts.keys())
    assert set(ACTIVATIONS) <= keys
    assert set(LOSSES.primary()) <= keys
    assert {name.lower() for name in OPTIMIZERS.primary()} <= keys
    assert set(REGULARIZERS.primary()) <= keys
    activation_layers = {"Activation", "ReLU", "Sigmoid", "Tanh", "Softmax"}
    assert set(LAYERS.primary()) <= set(concepts.LAYER_CONCEPTS) | activation_layers
    assert set(concepts.LAYER_CONCEPTS.values()) <= keys
    assert set(comments.ANCHORS) <= keys and set(comments.GROUPS) <= keys
    for key in ("weight_decay", "adamw", "freezing", "feature_extraction", "fine_tuning", "device"):
        assert key in keys


def test_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported language"):
        texts.concept("relu", "fr")


def test_texts_state_the_frameworks_facts() -> None:
    """Spot checks of the facts the texts teach, against docs/SEMANTICS."""
    assert "0.2" in texts.concept("leaky_relu", "en").text  # Keras's slope, passed to torch
    assert "1 - m" in texts.concept("batch_normalization", "en").text
    assert "g <- g + weight_decay * w" in texts.concept("weight_decay", "en").formula
    assert "lr * weight_decay * w" in texts.concept("adamw", "en").text
    assert "nn.L1Loss" in texts.concept("mae", "en").text
    assert "Softmax 포함" in texts.concept("softmax", "en").text


# -- lessons ----------------------------------------------------------------------------------


def fenced_code(markdown: str) -> list[str]:
    return re.findall(r"^(`{3,})python\n(.*?)\n\1$", markdown, flags=re.S | re.M)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("spec", EXAMPLES, ids=lambda p: p.stem)
def test_lesson_for_every_example(spec: Path, lang: str) -> None:
    program = load(spec)
    text = lesson.lesson(program, lang)
    assert text.startswith(f"# {texts.ui('lesson', lang)}: `{program.model.name}`")
    assert f"## {texts.ui('summary', lang)}" in text and f"## {texts.ui('concepts', lang)}" in text
    assert "| `input` (Input) |" in text
    assert f"**{texts.ui('pytorch', lang)}**" in text and f"**{texts.ui('keras', lang)}**" in text
    for use in concepts.concepts(program):
        assert f"### {texts.concept(use.key, lang).title}\n" in text
    blocks = fenced_code(text)
    assert blocks
    for _, code in blocks:
        ast.parse(code)  # every snippet is valid Python


def test_lesson_uses_the_specs_values() -> None:
    text = lesson.lesson(load(ROOT / "examples" / "weight_decay.spec"))
    assert "weight_decay=1e-05" in text and "penalty = 5e-06 *" in text
    digits = lesson.lesson(load(ROOT / "examples" / "digits_mlp.spec"))
    assert "nn.Dropout(p=0.2)" in digits and "layers.Dropout(0.2)" in digits
    assert "nn.Linear(64, 128)" in digits and 'layers.Dense(128, activation="relu")' in digits


def test_lesson_columns_layout_escapes_html() -> None:
    text = lesson.lesson(load(ROOT / "examples" / "convnet_digits.spec"), "en", "columns")
    assert "<table>" in text and "<th>PyTorch</th><th>Keras</th>" in text
    assert "<td" in text and "&quot;" in text  # code is HTML-escaped inside the cells
    assert "```python" not in text


def test_lesson_fences_survive_backticks_in_spec_strings(tmp_path: Path) -> None:
    spec = write_spec(
        tmp_path,
        "model m { input: (224, 224, 3)\n"
        '  base: resnet18(weights="w```x.pt", trainable=false)\n'
        "  GlobalAveragePooling2D()\n  Dense(2) }\n"
        "train { data: synthetic(samples=8, classes=2)\n"
        "  loss: sparse_categorical_crossentropy(from_logits=true) optimizer: Adam() }\n",
    )
    text = lesson.lesson(pipeline.load(spec))
    assert "````python" in text  # the fence is longer than the backtick run inside
    for _, code in fenced_code(text):
        ast.parse(code)


def test_explain_command_writes_a_lesson(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "lesson.md"
    assert main(["explain", str(ROOT / "examples" / "dropout.spec"), "--lang", "ko", "-o", str(out)]) == 0
    written = out.read_text(encoding="utf-8")
    assert "드롭아웃" in written and "![신경망 구조](<lesson.svg>)" in written
    ET.parse(tmp_path / "lesson.svg")
    assert main(["explain", str(tmp_path / "missing.spec")]) == 1  # like every command: SPC015
    assert "SPC015" in capsys.readouterr().err


def test_lesson_for_the_notes_recipes() -> None:
    keras_recipe = lesson.lesson(load(ROOT / "examples" / "finetune_resnet50.spec"))
    for construct in (
        "keras.applications.ResNet50(",
        "include_top=False",
        "base_model.trainable = False",
        "training=False",
        "layers.GlobalAveragePooling2D()",
        "for layer in weighted[:-10]:",
        "learning_rate=1e-05",
    ):
        assert construct in keras_recipe, construct
    torch_recipe = lesson.lesson(load(ROOT / "examples" / "feature_extraction_resnet18.spec"))
    for construct in ("models.resnet18(", "param.requires_grad = False", "nn.Linear(512, 10)"):
        assert construct in torch_recipe, construct
    assert "keras.applications ships no resnet18" in torch_recipe
    korean = lesson.lesson(load(ROOT / "examples" / "feature_extraction_resnet18.spec"), "ko")
    assert "# 사전 학습된 가중치 동결 (freeze)" in korean  # snippet comments follow the language


# -- graph ------------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", EXAMPLES, ids=lambda p: p.stem)
def test_graph_is_well_formed(spec: Path) -> None:
    program = load(spec)
    for lang in LANGS:
        root = ET.fromstring(graph.svg(program, "torch", lang))
        assert root.tag == f"{SVG}svg"
        labels = "".join(root.itertext())
        for node in program.model.layers:
            assert node.name in labels and node.type in labels


def test_graph_marks_frozen_parts_and_stages() -> None:
    drawing = graph.svg(load(ROOT / "examples" / "finetune_resnet50.spec"), "keras")
    root = ET.fromstring(drawing)
    groups = {g.get("class") for g in root.iter(f"{SVG}g")}
    assert "frozen" in groups and "trainable" in groups
    assert "url(#hatch)" in drawing and "frozen" in "".join(root.itertext())
    text = "".join(root.itertext())
    assert "main" in text and "fine_tune" in text and "last 10 weight layers" in text


def test_graph_escapes_spec_text(tmp_path: Path) -> None:
    spec = write_spec(
        tmp_path,
        "model m { input: (64, 64, 3)\n"
        '  base: resnet18(weights="a<b>&\'c\\".pt", trainable=false)\n'
        "  GlobalAveragePooling2D()\n  head = Dense(2) }\n",
    )
    drawing = graph.svg(pipeline.load(spec))
    root = ET.fromstring(drawing)
    assert "a<b>&'c\".pt" in "".join(root.itertext())
    assert "<b>" not in drawing


def test_graph_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "model.svg"
    spec = str(ROOT / "examples" / "stages_freeze_layers.spec")
    assert main(["graph", spec, "-o", str(out)]) == 0
    ET.parse(out)
    assert main(["graph", spec, "-o", str(tmp_path / "missing" / "x.svg")]) == 2
    assert "cannot write" in capsys.readouterr().err


# -- --teach comments -------------------------------------------------------------------------


def test_comments_wrap_to_the_line_length() -> None:
    lines = comments.wrap(texts.concept("fine_tuning", "ko").short * 3, "        ")
    assert all(comments.display_width(line) <= comments.WIDTH for line in lines)
    assert all(line.startswith("        # ") for line in lines)


def test_comments_never_land_inside_strings_or_joined_arguments() -> None:
    code = (
        '"""Doc.\n\nnn.Dropout(p=0.5) in a docstring.\n"""\n'
        "x = dict(\n    a=1, b=nn.Dropout(p=0.5)\n)\n"
        "y = nn.Dropout(p=0.5)\n"
    )
    layout = comments._Layout(code)
    assert comments.unsafe_lines(code) >= {2, 3, 4}
    assert layout.place(6) == 5  # a hugged argument list: the comment goes above the statement
    assert layout.place(8) == 8


def test_annotate_keeps_the_syntax_tree() -> None:
    program = load(ROOT / "examples" / "digits_mlp.spec")
    code = (
        "import torch.nn as nn\n\n\ndef build():\n"
        '    """Build."""\n'
        "    return nn.Sequential(\n"
        "        nn.Linear(64, 128),\n        nn.ReLU(),\n        nn.Dropout(p=0.2),\n    )\n"
    )
    out = comments.annotate(code, program, "torch", "en")
    assert ast.dump(ast.parse(out)) == ast.dump(ast.parse(code))
    assert "# Dropout: during training" in out and "# ReLU: max(0, x)" in out
    assert comments.annotate(out, program, "torch", "en") == out  # idempotent
