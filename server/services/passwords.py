"""Which new passwords are refused: too short, common, or made of the account's own name.

The list is small on purpose: the passwords of 10 or more characters that lead the public
leaked-password frequency lists (shorter ones fail on length already), and their Chinese
favourites. It is a floor, not a strength meter; the scrypt hash and the lockout do the rest.
"""

from __future__ import annotations

import re

MIN_PASSWORD = 10

COMMON = frozenset(
    """
    1234567890 0123456789 0987654321 9876543210 12345678910 123456789a a123456789 1234567890a
    123456789q q123456789 1234567890q 1q2w3e4r5t 1q2w3e4r5t6y 1qaz2wsx3edc 1qazxsw23edc qazwsxedc123
    zaq12wsxcde 1qaz2wsx qwertyuiop qwertyuiop1 qwerty1234 qwerty12345 qwerty123456 qwertyqwerty
    asdfghjkl1 asdfghjkl; zxcvbnm123 zxcvbnm1234 asdfasdfasdf abcdefghij abcdefg123 abcd123456
    abc1234567 abc123456789 a1b2c3d4e5 aa123456789 aaaaaaaaaa 1111111111 0000000000 1212121212
    1122334455 1234512345 1234554321 1234567899 123123123123 123321123321 147258369a 1472583690
    1357924680 5201314520 5201314521 woaini1314 woaini520 woaini123456 wo123456789 iloveyou12
    iloveyou123 iloveyou1234 password12 password123 password1234 password12345 password!
    passw0rd123 p@ssw0rd123 p@ssword123 passwordpassword letmein123 welcome123 welcome1234
    welcome2024 welcome2025 welcome2026 admin12345 admin123456 administrator admin@1234
    administrator1 adminadmin root123456 changeme123 changeme12 secret1234 superman123
    football123 baseball123 basketball princess12 sunshine123 starwars123 dragon1234
    monkey12345 michael123 jennifer12 trustno1234 whatever12 computer12 internet123 qwer123456
    asd123456789 zxc123456789 qq123456789 qq1234567890 aini1314520 zhang123456 wang123456789
    li1234567890 huawei123456 china123456 beijing2008 shanghai123 abc123abc123 a12345678910
    """.split()
)
# What is left of many common passwords once the digits and symbols at the end are gone
# ("Password123!" is "password"); a password made only of digits and symbols leaves nothing.
ROOTS = frozenset(
    """
    password passw0rd p@ssw0rd p@ssword qwerty qwertyuiop qwer asdf asdfgh asdfghjkl zxcv zxcvbnm
    qazwsx qazwsxedc iloveyou woaini admin administrator root welcome letmein abc abcd abcde abcdef
    abcdefg monkey dragon football baseball sunshine princess superman trustno whatever computer
    internet changeme secret test guest user login master shadow michael
    """.split()
)
# Words of this deployment that a guesser tries first, besides the account's own name.
CONTEXT = ("nuanxin", "暖心", "township", "dashboard")


def _core(password: str) -> str:
    """The password without case and the digits or symbols people add at the end."""
    return re.sub(r"[\d\W_]+$", "", password.lower())


def password_problem(password: str, username: str = "") -> str | None:
    """Why a new password is refused, for the person choosing it; None if it is accepted."""
    if len(password) < MIN_PASSWORD:
        return f"密码至少 {MIN_PASSWORD} 位 / at least {MIN_PASSWORD} characters"
    lowered = password.lower()
    core = _core(password)
    if lowered in COMMON or core in COMMON or core in ROOTS or not core or len(set(lowered)) < 4:
        return "这个密码太常见，容易被猜到 / this password is too common and easy to guess"
    words = [w for w in (username.strip().lower(), *CONTEXT) if len(w) >= 3]
    if any(word in lowered for word in words):
        return "密码不能包含用户名或系统名称 / the password must not contain the username or the system's name"
    return None
