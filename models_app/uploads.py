"""Streaming upload handling: hash and count the bytes as they arrive.

Django's own handlers buffer small files in memory and know no size cap; this one spools
every file part to a temporary file, computes its SHA-256 on the way (so the bytes are
read once), and stops the request as soon as the declared or received size passes
MAX_UPLOAD_SIZE. The temporary file is deleted when it is closed.
"""

import hashlib

from django.conf import settings
from django.core.files.uploadhandler import TemporaryFileUploadHandler

from .blobs import upload_too_large

# Room for the multipart boundaries and the other form fields around the file.
ENVELOPE_ALLOWANCE = 1024 * 1024


class HashingUploadHandler(TemporaryFileUploadHandler):
    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        if content_length and content_length > settings.MAX_UPLOAD_SIZE + ENVELOPE_ALLOWANCE:
            raise upload_too_large()
        return None

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.hasher = hashlib.sha256()
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > settings.MAX_UPLOAD_SIZE:
            self.file.close()
            raise upload_too_large()
        self.hasher.update(raw_data)
        return super().receive_data_chunk(raw_data, start)

    def file_complete(self, file_size):
        uploaded = super().file_complete(file_size)
        uploaded.sha256 = self.hasher.hexdigest()
        return uploaded
