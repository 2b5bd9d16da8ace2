import pytest

from skilllab.distill.redact import MASK, redact

SECRETS = [
    ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abcDEF123456", "eyJhbGciOiJIUzI1NiJ9"),
    ("export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE"),
    ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "wJalrXUtnFEMI"),
    ("-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----", "MIIEpAIBAAKCAQEA"),
    ("psql postgres://app:hunter2@db.internal:5432/orders", "hunter2"),
    ("mysql --password=Sup3rS3cret -h db", "Sup3rS3cret"),
    ("DB_PASSWORD: 'correct horse battery'", "correct horse"),
    ("api_key=abcd1234efgh5678", "abcd1234efgh5678"),
    ("token ghp_abcdefghijklmnopqrstuvwxyz0123456789", "ghp_abcdefghij"),
    ("slack xoxb-1234567890-abcdefghij", "xoxb-1234567890"),
    ("key sk-proj-abcdefghijklmnopqrstuv", "sk-proj-abcdefghij"),
    ("digest 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "9f86d081884c7d65"),
    ("blob dGhpc0lzQVZlcnlMb25nU2VjcmV0VmFsdWUxMjM0NTY3OA==", "dGhpc0lzQVZlcnlMb25nU2VjcmV0"),
]


@pytest.mark.parametrize("text,secret", SECRETS)
def test_common_secret_shapes_are_removed(text, secret):
    out = redact(text)
    assert secret not in out and MASK in out


@pytest.mark.parametrize("text", [
    "kubectl -n payments logs deploy/checkout-api --previous",
    "kubectl -n payments get secret checkout-db -o yaml",
    "SELECT state, count(*) FROM pg_stat_activity GROUP BY state;",
    "raise memory limit from 512Mi to 1Gi",
    "openssl s_client -connect shop.example.com:443",
])
def test_ordinary_runbook_text_is_kept(text):
    assert redact(text) == text
