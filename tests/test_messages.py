"""Every message has its Chinese with the same fields, and the command line speaks ``--lang``."""

from __future__ import annotations

import ast
import string
from pathlib import Path

import pytest
from click.testing import CliRunner

from healthreach import errors
from healthreach.cli import cli
from healthreach.messages import Message, catalogue

PACKAGE = Path(errors.__file__).parent
MODULES = sorted(p for p in PACKAGE.rglob("*.py") if "messages" not in p.parts)
ERRORS = {name for name in dir(errors) if isinstance(getattr(errors, name), type)
          and issubclass(getattr(errors, name), errors.HealthreachError)}
ERRORS |= {"RequestError", "PosterFontError", "OfflineError"}  # defined beside their one use


def fields(template: str) -> set[str]:
    return {name.split(".")[0].split("[")[0] for _, name, _, _ in string.Formatter().parse(template) if name}


def calls(path: Path) -> list[ast.Call]:
    return [node for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Message"]


def templates() -> dict[str, str]:
    """Every literal template given to ``Message`` -> where it is."""
    found = {}
    for path in [*MODULES, PACKAGE / "messages" / "__init__.py"]:  # the joiners of several messages
        for node in calls(path):
            if node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                found[node.args[0].value] = f"{path.relative_to(PACKAGE)}:{node.lineno}"
    return found


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_messages_of_a_module_are_literal_translated_and_filled(path):
    zh = catalogue("zh")
    problems = []
    for node in calls(path):
        where = f"{path.relative_to(PACKAGE)}:{node.lineno}"
        if not node.args or not isinstance(node.args[0], ast.Constant) or not isinstance(node.args[0].value, str):
            problems.append(f"{where}: the template is not a literal string")
            continue
        template = node.args[0].value
        given = {k.arg for k in node.keywords}
        if None not in given and given != fields(template):
            problems.append(f"{where}: fields {sorted(fields(template))} but values {sorted(given)}")
        if template not in zh:
            problems.append(f"{where}: no Chinese for {template!r}")
        elif fields(zh[template]) != fields(template):
            problems.append(f"{where}: the Chinese has fields {sorted(fields(zh[template]))}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_errors_are_raised_with_messages_not_bare_text(path):
    """``raise InputError(f"...")`` (or ``msg = f"..."``) would stay English whatever ``--lang`` says."""
    problems = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "msg" for t in node.targets)
                and isinstance(node.value, (ast.JoinedStr, ast.Constant, ast.BinOp))):
            problems.append(f"{path.relative_to(PACKAGE)}:{node.lineno}: msg is bare text; make it a Message")
        if (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and isinstance(node.exc.func, ast.Name)
                and node.exc.func.id in ERRORS and node.exc.args
                and isinstance(node.exc.args[0], (ast.JoinedStr, ast.Constant, ast.BinOp))):
            problems.append(f"{path.relative_to(PACKAGE)}:{node.lineno}: {node.exc.func.id} raised with bare text")
    assert not problems, "\n".join(problems)


def test_no_translation_is_left_unused():
    unused = sorted(set(catalogue("zh")) - set(templates()))
    assert not unused, f"translations of no message in the code: {unused[:5]}"


def test_a_message_renders_in_each_language_and_nests():
    hint = Message("; check the permissions, or choose another --out")
    outer = Message("{reason}{hint}", reason="denied", hint=hint)
    assert str(outer) == "denied; check the permissions, or choose another --out"
    assert outer.render("zh") == "denied；请检查权限，或换一个 --out 文件夹"


def test_an_error_is_english_in_python_and_in_lang_on_the_command_line(tmp_path):
    bad = tmp_path / "study.yaml"
    bad.write_text("name: x\nroad: {}\n", encoding="utf-8")
    english = CliRunner().invoke(cli, ["audit", str(bad), "--lang", "en"])
    chinese = CliRunner().invoke(cli, ["audit", str(bad)])
    assert english.exit_code == chinese.exit_code == 1
    assert "error: " in english.output
    assert "'road'" in english.output
    assert "错误：" in chinese.output
    assert "'road'" in chinese.output
    assert "unknown key" not in chinese.output


def test_joined_messages_stay_flat_however_many_parts_and_travel_as_data():
    from healthreach.messages import as_data, from_data, message_lines, message_list

    parts = [Message("row {row}", row=i) for i in range(5000)]  # far beyond the recursion limit if nested
    listed = message_list(parts)
    assert str(listed).startswith("row 0; row 1; ")
    assert listed.render("zh").startswith("第 0 行；第 1 行；")
    assert message_list(["a", "b"], ", ").render("zh") == "a、b"
    lines = message_lines(["first", Message("row {row}", row=2)])
    assert lines.render("zh") == "first\n第 2 行"
    assert from_data(as_data(lines)) == lines
    assert from_data(as_data(listed)).render("zh") == listed.render("zh")


def test_names_in_a_message_follow_its_language_and_travel_as_data():
    import pickle

    from healthreach.i18n import tier_words, type_words
    from healthreach.messages import as_data, from_data

    note = Message("{count:,} within {min_spacing_m:g} m of an existing {type} ({existing} of them)",
                   count=3, min_spacing_m=500, type=type_words("township_hc"), existing=2)
    assert note.render("zh") == "3 个距现有乡镇卫生院（共 2 处）不足 500 米"
    assert str(note) == "3 within 500 m of an existing Township health centre (2 of them)"
    assert from_data(as_data(note)) == note
    assert pickle.loads(pickle.dumps(note)) == note  # noqa: S301  our own bytes
    assert tier_words("township").render("zh") == "乡镇级"
    assert tier_words("district_a").render("zh") == "district_a"  # a tier the profile names otherwise: as written


@pytest.mark.parametrize(("args", "chinese", "english"), [
    (["audit", "--bogus"], "没有 --bogus 这个选项（是否应为 --out？）", "No such option '--bogus'"),
    (["audit", "--lang", "fr"], "'--lang' 的取值应为 'zh', 'en' 之一，而不是 'fr'", "'fr' is not one of 'zh', 'en'"),
    (["suggest"], "缺少 '--type'", "Missing option '--type'"),
    (["audti"], "没有 'audti' 这个命令；可用的命令：audit", "No such command 'audti'"),
    (["audit", "--out"], "--out 后面需要给出取值", "requires an argument"),
])
def test_command_line_mistakes_are_told_in_lang_with_exit_status_2(args, chinese, english):
    zh = CliRunner().invoke(cli, args)
    en = CliRunner().invoke(cli, [args[0], "--lang", "en", *args[1:]])
    assert zh.exit_code == 2, zh.output
    assert chinese in zh.output
    assert "Error" not in zh.output
    if args[0] != "audti":  # a command line naming no known command has no --lang to give
        assert en.exit_code == 2, en.output
        assert english in en.output
