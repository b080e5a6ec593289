from django.core.files.base import ContentFile

from hmsportal.storage import EncryptedStorage


def test_documents_are_encrypted_at_rest_and_read_back(settings, tmp_path):
    storage = EncryptedStorage()
    name = storage.save("id/passport.jpg", ContentFile(b"\xff\xd8secret passport scan"))
    on_disk = (settings.MEDIA_ROOT / "private" / name).read_bytes()
    assert b"secret passport scan" not in on_disk
    assert storage.read_bytes(name) == b"\xff\xd8secret passport scan"
