"""Answer models behind one interface (`base.AnswerModel`): llama.cpp in process, or a chat server."""
