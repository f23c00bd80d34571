"""The ERA upload form: several 835 files at once."""

from __future__ import annotations

from django import forms
from django.core.files.uploadedfile import UploadedFile

MAX_FILE_BYTES = 5 * 1024 * 1024  # an 835 of a few thousand claims; anything bigger is a mistake
MAX_FILES = 20


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data, initial=None):
        """The uploaded files; the form checks each one (and names it in its message)."""
        files = data if isinstance(data, list | tuple) else [data] if data else []
        if not files:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        return files


class EraUploadForm(forms.Form):
    files = MultipleFileField(
        label="ERA 835 files",
        error_messages={"required": "Choose one or more 835 files to upload."},
        help_text=f"Up to {MAX_FILES} files of at most 5 MB each, as the clearinghouse or payer "
        "sent them (.835, .txt, .edi).",
    )

    def clean_files(self) -> list[tuple[str, str]]:
        """(file name, text) of each file; every problem is named, and then none is kept."""
        files: list[UploadedFile] = self.cleaned_data["files"]
        if len(files) > MAX_FILES:
            raise forms.ValidationError(f"Upload at most {MAX_FILES} files at a time.")
        read, errors = [], []
        for upload in files:
            name = upload.name or "unnamed file"
            if not upload.size:
                errors.append(f"{name} is empty.")
                continue
            if upload.size > MAX_FILE_BYTES:
                errors.append(f"{name} is larger than 5 MB: is it an 835?")
                continue
            raw = upload.read()
            if not raw.strip():
                errors.append(f"{name} is empty.")
                continue
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                try:
                    text = raw.decode("latin-1")
                except UnicodeDecodeError:  # pragma: no cover  (latin-1 decodes any byte)
                    text = ""
            if "\x00" in text or not text.strip():
                errors.append(f"{name} is not a text file: an 835 is plain text.")
                continue
            read.append((name, text))
        if errors:
            raise forms.ValidationError(errors)
        return read
