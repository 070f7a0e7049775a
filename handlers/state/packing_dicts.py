"""Frozen preset dictionaries of the compact stored forms (handlers.state.packing): NEVER edit one.

A value deflated with a dictionary can only be inflated with the very same bytes. To improve one, add a new
version next to it (and a new marker in handlers.state.packing); the old one stays to read what it wrote.
Made once from the default playbook and typical records of 2026-12; the strings are common fragments only.
"""
from __future__ import annotations

# activity rounds (handlers.state.ledger.ActivityLog): step keys and titles, ops, triggers, reasons
ACTIVITY_1 = (
    '{"op":"created","key":"natural.availability","title":"Annoncer la disponibilité de  le ","due":"20{"op":"created","key'
    '":"natural.prospect","title":"Prospecter la prochaine mission de ","due":"20{"op":"created","key":"natural.handover","'
    'title":"Préparer la passation et la documentation de ","due":"20{"op":"created","key":"natural.new_needs","title":"Son'
    'der  sur ses prochains besoins","due":"20{"op":"created","key":"natural.satisfaction","title":"Mesurer la satisfaction'
    ' sur ","due":"20{"op":"created","key":"natural.rapport_etonnement","title":"Rédiger votre rapport d\'étonnement sur ",'
    '"due":"20{"op":"created","key":"natural.review","title":"Point de fin de mission à trois :  / ","due":"20{"op":"create'
    'd","key":"natural.recommendations","title":"Demander une recommandation à ","due":"20{"op":"created","key":"client.und'
    'erstand_reason","title":"Comprendre pourquoi  arrête ","due":"20{"op":"created","key":"client.restaff","title":"Reposi'
    'tionner  : libre le ","due":"20{"op":"created","key":"client.communicate","title":"Aligner client, consultant et manag'
    'er sur la fin de ","due":"20{"op":"created","key":"client.transition","title":"Remettre un récapitulatif de  à ","due"'
    ':"20{"op":"created","key":"client.satisfaction","title":"Questionnaire de satisfaction à ","due":"20{"op":"created","k'
    'ey":"client.rapport_etonnement","title":"Rédiger votre rapport d\'étonnement sur ","due":"20{"op":"created","key":"cli'
    'ent.review","title":"Bilan de fin de mission avec  et ","due":"20{"op":"created","key":"client.keep_in_touch","title":'
    '"Reprendre contact avec ","due":"20{"op":"created","key":"consultant.transparency","title":"Informer  du départ de ","'
    'due":"20{"op":"created","key":"consultant.mobilize_business_engineers","title":"Remplaçant pour  et nouvelle mission p'
    'our ","due":"20{"op":"created","key":"consultant.feedback","title":"Recueillir le ressenti de  sur ","due":"20{"op":"c'
    'reated","key":"consultant.project_impact","title":"Évaluer l\'impact du départ sur le projet de ","due":"20{"op":"crea'
    'ted","key":"consultant.replacement_offer","title":"Proposer une solution de remplacement à ","due":"20{"op":"created",'
    '"key":"consultant.transition","title":"Réunion de transition et passation chez ","due":"20{"op":"created","key":"consu'
    'ltant.relationship_survey","title":"Votre avis sur notre collaboration après ","due":"20{"op":"created","key":"consult'
    'ant.prevention","title":"Tirer les leçons du départ de ","due":"20{"op":"created","key":"bench.checkin","title":"Point'
    ' hebdomadaire d\'intercontrat avec ","due":"20{"op":"created","key":"bench.self_review","title":"Bilan d\'intercontrat'
    ' avec ","due":"20{"op":"created","key":"bench.cv_update","title":"Mettre à jour votre CV avec ","due":"20{"op":"create'
    'd","key":"bench.internal_project","title":"Confier un projet interne à ","due":"20{"op":"created","key":"bench.trainin'
    'g","title":"Proposer une formation à ","due":"20{"op":"created","key":"bench.linkedin","title":"Soigner votre profil L'
    'inkedIn","due":"20{"op":"created","key":"bench.ambassadors","title":"Activer les clients ambassadeurs pour ","due":"20'
    '{"op":"created","key":"bench.platforms","title":"Publier le profil de  sur les plateformes d\'intercontrat","due":"20{'
    '"op":"created","key":"bench.skills_volunteering","title":"Proposer une mission de mécénat de compétences à ","due":"20'
    '{"op":"created","key":"bench.volunteering_followup","title":"Accompagner  en mécénat : buddy et suivi","due":"20Announ'
    "ce 's availability on Prospect 's next missionPrepare the handover and documentation of Ask  about upcoming needsMeasu"
    "re satisfaction with Write your 'rapport d'étonnement' on Three-way end-of-mission review:  / Ask  for a recommendatio"
    'nFind out why  is ending Restaff : free from Align client, consultant and manager on the end of Hand  a recap of Satis'
    "faction survey for Write your 'rapport d'étonnement' on End-of-mission review with  and Get back in touch with Tell  t"
    "hat  is leavingReplacement for , new mission for Hear 's side of Assess the impact of the departure on 's projectOffer"
    "  a replacement planTransition meeting and handover at Your view of our partnership after Learn from 's early departur"
    'eWeekly bench check-in with Bench review with Update your CV with Give  an internal projectOffer  a training coursePol'
    'ish your LinkedIn profileAsk ambassador clients to refer List  on bench-matching platformsOffer  a skills-based volunt'
    "eering missionSupport 's volunteering: buddy and follow-upRelancer  : questionnaire sur  sans réponseQuestionnaire de "
    'fin de mission :  (), satisfaction /5, recommandation /10Réponse basse de  sur  : reprendre contactChase : survey on  '
    'not answered yetEnd-of-mission survey:  (), satisfaction /5, recommendation /10Low survey answer from  on : get in tou'
    'ch.reminder.consultant.answer.client_contact.followup."why":"deleted in the host by someone: left deleted, never recre'
    'ated","why":"closed in the host by someone: kept as it is, never rewritten or recreated","why":"edited in the host by '
    'someone: kept as it is, never rewritten or recreated","why":"edited in the host by someone, then no longer planned: cl'
    'osed with a note, not deleted","why_code":"edited","gone","done","closed"{"op":"dismissed","kept","recovered","cancell'
    'ed","rescheduled","previous_due":"20","late":true,"step":"[{"trigger":{"kind":"webhook","host":"boond","salesforce","e'
    'vent":"","type":"update","create","delete","entity":"delivery","project","resource","positioning","via":"","kind":"swe'
    'ep"},{"kind":"scheduler"},{"kind":"survey","step":"natural.satisfaction","role":"consultant"},{"kind":"resume","siblin'
    'g","backfill","run":"","marketplace","survey-mail","status":"sent"},"unsure":true,"case":"client","consultant","natura'
    'l","reason":"host state \'\' mapped to client","end moved earlier (","end moved later (","mission cancelled","end date'
    ' cleared","; next mission starts on 20: on the bench until then","planned end","change":"None → 20'
).encode()


# mission snapshots (handlers.state.store): field names and the values they usually hold
SNAPSHOT_1 = (
    '"status":"client","consultant","cancelled","deleted","next_start":"20","others":[{"id":"","start":"20","end":"20"}],"o'
    'ccupation":100,"consultant_manager":{"id":"","type":"User","name":""},"consultant_user":{"id":"005","type":"User","nam'
    'e":""},"consultant_left":true,"contract_end":"20","notice_date":"20","daily_cost":,"previous_end":"20","state_note":""'
    ',"degraded":["{"host":"salesforce","title":"","start_date":"20","end_date":"20","raw_state":"0","consultant":{"id":"00'
    '3","type":"Contact","name":""},"manager":{"id":"005","type":"User","name":""},"business_engineer":{"id":"005","type":"'
    'User","name":""},"hr":{"id":"005","type":"User","name":""},"client_contact":{"id":"003","type":"Contact","name":""},"c'
    'lient_name":"","next_start":"20","first_seen":"20","end_seen":"20"}{"host":"boond","title":"","start_date":"20","end_d'
    'ate":"20","raw_state":"0","consultant":{"id":"","name":""},"manager":{"id":"","name":""},"business_engineer":{"id":"",'
    '"name":""},"hr":{"id":"","name":""},"client_contact":{"id":"","type":"contact","name":""},"client_name":"","next_start'
    '":"20","first_seen":"20","end_seen":"20"}'
).encode()


# step keys (handlers.state.packing.short_key): the default playbook's step ids of 2026-12, two characters each (an upper-case
# letter first, which no step id has). Only ever add codes; a step id not here is stored as it is.
STEPS_1 = {
    "Na": "natural.availability",
    "Nb": "natural.prospect",
    "Nc": "natural.handover",
    "Nd": "natural.new_needs",
    "Ne": "natural.satisfaction",
    "Nf": "natural.rapport_etonnement",
    "Ng": "natural.review",
    "Nh": "natural.recommendations",
    "Ca": "client.understand_reason",
    "Cb": "client.restaff",
    "Cc": "client.communicate",
    "Cd": "client.transition",
    "Ce": "client.satisfaction",
    "Cf": "client.rapport_etonnement",
    "Cg": "client.review",
    "Ch": "client.keep_in_touch",
    "Ka": "consultant.transparency",
    "Kb": "consultant.mobilize_business_engineers",
    "Kc": "consultant.feedback",
    "Kd": "consultant.project_impact",
    "Ke": "consultant.replacement_offer",
    "Kf": "consultant.transition",
    "Kg": "consultant.relationship_survey",
    "Kh": "consultant.prevention",
    "Ba": "bench.checkin",
    "Bb": "bench.self_review",
    "Bc": "bench.cv_update",
    "Bd": "bench.internal_project",
    "Be": "bench.training",
    "Bf": "bench.linkedin",
    "Bg": "bench.ambassadors",
    "Bh": "bench.platforms",
    "Bi": "bench.skills_volunteering",
    "Bj": "bench.volunteering_followup",
}
