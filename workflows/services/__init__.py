"""Services of the workflow action: registration (the action itself), follow-up sync, publishing."""
