"""Audit: does every differentiable op named in the operator-set issue have a gradcheck test?

Run ``python tests/python/gradcheck_audit.py`` for the table (``--missing`` lists only the
gaps); ``test_gradcheck_audit.py`` runs it under pytest and fails on a gap.

How it decides: for every call of a finite-difference check (``gradcheck`` from
``ferrograd.autograd`` or the suite's helpers of that name) in a test, the checked text is the
call's arguments (the function and its inputs, where the views are made) plus the source of
every name they use: a local ``def`` or assignment, a module-level table or helper
(``UNARY[name]``), or a parametrized argument (then the ``parametrize`` table). An op is
covered when that text uses it as a method or function (``.exp(``, ``F.conv2d(``,
``fg.where(``) or as a table key (``"exp"``); NumPy calls (``np.round(``) do not count. A
grep, not a proof: it finds the ops nobody gradchecks, which is what the audit is for.
"""

from __future__ import annotations

import ast
import functools
import pathlib
import re
import sys
import textwrap

HERE = pathlib.Path(__file__).resolve().parent

# Each differentiable op of the issue, by family. `None` = the default pattern (a call or a
# quoted name); otherwise a regex of its own.
OPS: dict[str, list[tuple[str, str | None]]] = {
    "unary": [(n, None) for n in (
        "abs neg sign exp exp2 expm1 log log2 log10 log1p sqrt rsqrt square reciprocal sin cos tan asin acos "
        "atan sinh cosh tanh sigmoid logsigmoid relu relu6 leaky_relu elu selu gelu silu mish softplus softsign "
        "hardtanh hardsigmoid hardswish clamp clip floor ceil round trunc frac nan_to_num").split()]
    + [("gelu(tanh)", r"approximate\s*=\s*[\"']tanh")],
    "binary": [(n, None) for n in "add sub mul div remainder fmod pow maximum minimum atan2 hypot logaddexp lerp where masked_fill".split()]
    + [("div(rounding_mode)", r"rounding_mode"), ("add(alpha)", r"alpha\s*="), ("scalar ** tensor", r"\d\s*\*\*\s*[a-z]")],
    "reduction": [(n, None) for n in "sum mean prod max min amax amin var std var_mean std_mean logsumexp norm cumsum cumprod median topk sort".split()],
    "linalg": [(n, None) for n in "matmul mm bmm mv dot outer addmm baddbmm einsum".split()]
    + [("@", r"\w\s*@\s*\w"), ("linalg.norm", r"linalg\.norm\("), ("linalg.vector_norm", r"vector_norm\("),
       ("linalg.matrix_norm", r"matrix_norm\("), ("linalg.svdvals", r"svdvals"), ("linalg.svd", r"linalg\.svd\(")],
    "shape": [(n, None) for n in (
        "reshape view view_as flatten unflatten transpose swapaxes permute squeeze unsqueeze expand expand_as "
        "broadcast_to narrow select unbind chunk split tensor_split contiguous clone flip roll repeat "
        "repeat_interleave tile diag diagonal tril triu cat concat stack hstack vstack pad movedim meshgrid").split()]
    + [("T", r"\.T\b"), ("mT", r"\.mT\b")],
    "indexing": [(n, None) for n in "gather scatter scatter_add index_select index_add take masked_select".split()]
    + [("getitem (basic)", r"\w\[[^\]\n]*(::|:\s*-?\d|None|\.\.\.)"),
       ("getitem (advanced)", r"\w\[\s*(\[|fg\.tensor|idx|index|mask|m\b|i\b)"),
       ("setitem", r"\w\[[^\]\n]*\]\s*=[^=]")],
    "inplace": [(n, None) for n in "add_ sub_ mul_ div_ pow_ clamp_ zero_ fill_ copy_ exp_ neg_ masked_fill_ index_add_ scatter_".split()]
    + [("augmented assignment", r"\s(\+|-|\*|/)=\s")],
    "nn.functional": [(n, None) for n in (
        "linear bilinear dropout softmax log_softmax softmin cross_entropy nll_loss mse_loss l1_loss "
        "smooth_l1_loss huber_loss binary_cross_entropy binary_cross_entropy_with_logits kl_div "
        "cosine_similarity pairwise_distance normalize layer_norm group_norm batch_norm embedding conv1d "
        "conv2d conv_transpose2d max_pool1d max_pool2d avg_pool1d avg_pool2d adaptive_avg_pool2d interpolate "
        "unfold fold").split()],
}

CHECK_CALL = re.compile(r"(\w+\.)*(gradcheck|_gradcheck|check_grad)\s*\(")


def default_pattern(op: str) -> re.Pattern:
    name = re.escape(op)
    return re.compile(rf"((?<!np)(?<!numpy)\.{name}\s*\(|\b(F|fg|functional)\.{name}\b|[\"']{name}[\"'])")


def _names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


@functools.lru_cache(maxsize=1)
def gradcheck_texts() -> dict[str, list[str]]:
    """Per test file, the text each gradcheck call checks (see the module docstring)."""
    out: dict[str, list[str]] = {}
    for path in sorted(HERE.glob("test_*.py")):
        src = path.read_text()
        tree = ast.parse(src)
        lines = src.splitlines(keepends=True)
        starts = [0]
        for line in lines:
            starts.append(starts[-1] + len(line))
        data = src.encode()

        def seg(n: ast.AST) -> str:
            # ast.get_source_segment re-splits the whole file per call; offsets are UTF-8 bytes.
            if getattr(n, "end_lineno", None) is None:
                return ""
            a = len(src[: starts[n.lineno - 1]].encode()) + n.col_offset
            b = len(src[: starts[n.end_lineno - 1]].encode()) + n.end_col_offset
            return data[a:b].decode()

        module: dict[str, str] = {}
        for node in tree.body:
            if isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for t in targets:
                    for n in _names(t):
                        module[n] = seg(node)
            elif isinstance(node, ast.FunctionDef) and not node.name.startswith("test"):
                module[node.name] = seg(node)
        texts = []
        for fn in ast.walk(tree):
            if not (isinstance(fn, ast.FunctionDef) and fn.name.startswith("test")):
                continue
            params = {a.arg for a in fn.args.args}
            local: dict[str, str] = {}
            for node in ast.walk(fn):
                if isinstance(node, (ast.Assign, ast.AnnAssign, ast.For)):
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                    for t in targets:
                        for n in _names(t):
                            local[n] = local.get(n, "") + "\n" + seg(node)
                elif isinstance(node, ast.FunctionDef) and node is not fn:
                    local[node.name] = seg(node)
            decorators = "\n".join(seg(d) for d in fn.decorator_list)
            for call in ast.walk(fn):
                if not (isinstance(call, ast.Call) and CHECK_CALL.match(seg(call.func) + "(")):
                    continue
                text = "\n".join(seg(a) for a in call.args)
                # Follow names one level (plus the tables those sources name) to their source.
                todo, seen = list(_names(ast.Module(body=[ast.Expr(a) for a in call.args], type_ignores=[]))), set()
                depth = {n: 0 for n in todo}
                while todo:
                    n = todo.pop()
                    if n in seen:
                        continue
                    seen.add(n)
                    found = local.get(n) or (decorators if n in params else None) or module.get(n)
                    if not found:
                        continue
                    text += "\n" + found
                    if depth[n] < 2:
                        for m in _source_names(found):
                            if m not in depth:
                                depth[m] = depth[n] + 1
                                todo.append(m)
                texts.append(text)
        if texts:
            out[path.name] = texts
    return out


@functools.lru_cache(maxsize=None)
def _source_names(src: str) -> frozenset:
    """The names a snippet of source uses (none if it does not parse on its own)."""
    try:
        return frozenset(_names(ast.parse(textwrap.dedent(src))))
    except SyntaxError:
        return frozenset()


def audit() -> list[tuple[str, str, list[str]]]:
    """(family, op, files with a gradcheck of it) for every op of the issue."""
    texts = gradcheck_texts()
    rows = []
    for family, ops in OPS.items():
        for op, pattern in ops:
            rx = re.compile(pattern) if pattern else default_pattern(op)
            files = [f for f, ts in texts.items() if any(rx.search(t) for t in ts)]
            rows.append((family, op, files))
    return rows


def main(argv: list[str]) -> int:
    rows = audit()
    missing = [r for r in rows if not r[2]]
    for family, op, files in rows:
        if files and "--missing" in argv:
            continue
        print(f"{family:14s} {op:34s} {', '.join(files) if files else 'MISSING'}")
    print(f"\n{len(rows) - len(missing)}/{len(rows)} ops have a gradcheck test; {len(missing)} missing")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
