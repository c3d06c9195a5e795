"""Read a Korean 개인정보 처리방침 into structured data (the `dsar policy import` engine).

    text = read_policy_file(path)              # UTF-8 / CP949 / HTML on disk -> text lines
    extract = compile_policy(text, source=path)  # -> PolicyExtract; extract.to_json() is the contract

Both raise dsar.errors.PolicyError with a Korean + English message naming the file.
"""

from dsar.policy.extract import compile_policy
from dsar.policy.model import PolicyExtract
from dsar.policy.text import read_policy_file

__all__ = ["PolicyExtract", "compile_policy", "read_policy_file"]
