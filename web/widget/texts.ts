/**
 * The booking widget's words in English, Spanish and Brazilian Portuguese (the languages of the
 * platform's notification templates, `convex/templates.ts`). Which one a visitor gets follows
 * the templates' rule (`domain/locale.ts` localeChain): the embed's `data-locale`, its
 * language, the business's locale and language, then English. Dates, times and money are
 * formatted by Intl in the visitor's locale itself.
 */
import { localeChain } from "../../domain/locale";

export type WidgetTexts = {
  loading: string;
  somethingWentWrong: string;
  notTakingBookings: string;
  bookWith: (business: string) => string;
  whereTitle: string;
  postalCode: string;
  checking: string;
  findServices: string;
  notServed: (code: string) => string;
  serves: (code: string) => string;
  change: string;
  whatTitle: string;
  kindOfService: string;
  servicesOf: (industry: string) => string;
  minutes: (n: number) => string;
  units: string;
  fewer: (unit: string) => string;
  more: (unit: string) => string;
  remove: string;
  removeNamed: (name: string) => string;
  add: string;
  addNamed: (name: string) => string;
  extras: string;
  each: string;
  chooseKindFirst: string;
  total: (amount: string, minutes: number) => string;
  whenTitle: string;
  day: string;
  timesIn: (timeZone: string) => string;
  live: string;
  findingTimes: string;
  noTimes: (day: string) => string;
  startTime: string;
  othersChecking: (count: number) => string;
  inDemand: string;
  slotTaken: (time: string) => string;
  payTitle: string;
  payHint: (day: string, time: string, business: string) => string;
  checkingTime: string;
  continueToBook: string;
};

const en: WidgetTexts = {
  loading: "Loading…",
  somethingWentWrong: "Something went wrong",
  notTakingBookings: "This business is not taking bookings.",
  bookWith: (b) => `Book with ${b}`,
  whereTitle: "1. Where is the service?",
  postalCode: "Postal code",
  checking: "Checking…",
  findServices: "Find services",
  notServed: (code) => `We do not serve ${code} yet. Try another postal code.`,
  serves: (code) => ` serves ${code}. `,
  change: "Change",
  whatTitle: "2. What do you need?",
  kindOfService: "Kind of service",
  servicesOf: (i) => `${i} services`,
  minutes: (n) => `${n} min`,
  units: "units",
  fewer: (u) => `Fewer ${u}`,
  more: (u) => `More ${u}`,
  remove: "Remove",
  removeNamed: (n) => `Remove ${n}`,
  add: "Add",
  addNamed: (n) => `Add ${n}`,
  extras: "Extras",
  each: " each",
  chooseKindFirst: "Choose the kind of service first.",
  total: (amount, minutes) => `Total ${amount} · about ${minutes} min`,
  whenTitle: "3. When?",
  day: "Day",
  timesIn: (tz) => `Times in ${tz}`,
  live: " · live",
  findingTimes: "Finding free times…",
  noTimes: (d) => `No free times on ${d}. Try another day.`,
  startTime: "Start time",
  othersChecking: (n) => (n === 1 ? "Someone is checking out this time" : `${n} people are checking out this time`),
  inDemand: " · in demand",
  slotTaken: (time) => `The ${time} slot was just taken by someone else. Please pick another time.`,
  payTitle: "4. Your details and payment",
  payHint: (d, time, b) => `${d} at ${time}. You sign in, reserve this time and pay on ${b}'s booking page, then come back here.`,
  checkingTime: "Checking the time…",
  continueToBook: "Continue to book",
};

const es: WidgetTexts = {
  loading: "Cargando…",
  somethingWentWrong: "Algo ha salido mal",
  notTakingBookings: "Este negocio no acepta reservas.",
  bookWith: (b) => `Reserva con ${b}`,
  whereTitle: "1. ¿Dónde es el servicio?",
  postalCode: "Código postal",
  checking: "Comprobando…",
  findServices: "Buscar servicios",
  notServed: (code) => `Todavía no damos servicio en ${code}. Prueba con otro código postal.`,
  serves: (code) => ` da servicio en ${code}. `,
  change: "Cambiar",
  whatTitle: "2. ¿Qué necesitas?",
  kindOfService: "Tipo de servicio",
  servicesOf: (i) => `Servicios de ${i}`,
  minutes: (n) => `${n} min`,
  units: "unidades",
  fewer: (u) => `Menos ${u}`,
  more: (u) => `Más ${u}`,
  remove: "Quitar",
  removeNamed: (n) => `Quitar ${n}`,
  add: "Añadir",
  addNamed: (n) => `Añadir ${n}`,
  extras: "Extras",
  each: " cada uno",
  chooseKindFirst: "Elige primero el tipo de servicio.",
  total: (amount, minutes) => `Total ${amount} · unos ${minutes} min`,
  whenTitle: "3. ¿Cuándo?",
  day: "Día",
  timesIn: (tz) => `Horas en ${tz}`,
  live: " · en directo",
  findingTimes: "Buscando horas libres…",
  noTimes: (d) => `No hay horas libres el ${d}. Prueba otro día.`,
  startTime: "Hora de inicio",
  othersChecking: (n) => (n === 1 ? "Alguien está reservando esta hora" : `${n} personas están reservando esta hora`),
  inDemand: " · solicitada",
  slotTaken: (time) => `Otra persona acaba de reservar las ${time}. Elige otra hora, por favor.`,
  payTitle: "4. Tus datos y el pago",
  payHint: (d, time, b) => `${d} a las ${time}. Inicias sesión, reservas esta hora y pagas en la página de reservas de ${b}; después vuelves aquí.`,
  checkingTime: "Comprobando la hora…",
  continueToBook: "Continuar con la reserva",
};

const ptBR: WidgetTexts = {
  loading: "Carregando…",
  somethingWentWrong: "Algo deu errado",
  notTakingBookings: "Este negócio não está aceitando agendamentos.",
  bookWith: (b) => `Agende com ${b}`,
  whereTitle: "1. Onde é o serviço?",
  postalCode: "CEP",
  checking: "Verificando…",
  findServices: "Buscar serviços",
  notServed: (code) => `Ainda não atendemos ${code}. Tente outro CEP.`,
  serves: (code) => ` atende ${code}. `,
  change: "Alterar",
  whatTitle: "2. Do que você precisa?",
  kindOfService: "Tipo de serviço",
  servicesOf: (i) => `Serviços de ${i}`,
  minutes: (n) => `${n} min`,
  units: "unidades",
  fewer: (u) => `Menos ${u}`,
  more: (u) => `Mais ${u}`,
  remove: "Remover",
  removeNamed: (n) => `Remover ${n}`,
  add: "Adicionar",
  addNamed: (n) => `Adicionar ${n}`,
  extras: "Adicionais",
  each: " cada",
  chooseKindFirst: "Escolha primeiro o tipo de serviço.",
  total: (amount, minutes) => `Total ${amount} · cerca de ${minutes} min`,
  whenTitle: "3. Quando?",
  day: "Dia",
  timesIn: (tz) => `Horários em ${tz}`,
  live: " · ao vivo",
  findingTimes: "Buscando horários livres…",
  noTimes: (d) => `Nenhum horário livre em ${d}. Tente outro dia.`,
  startTime: "Horário de início",
  othersChecking: (n) => (n === 1 ? "Alguém está agendando este horário" : `${n} pessoas estão agendando este horário`),
  inDemand: " · disputado",
  slotTaken: (time) => `O horário das ${time} acabou de ser agendado por outra pessoa. Escolha outro horário.`,
  payTitle: "4. Seus dados e o pagamento",
  payHint: (d, time, b) => `${d} às ${time}. Você entra, reserva este horário e paga na página de agendamento de ${b} e depois volta para cá.`,
  checkingTime: "Verificando o horário…",
  continueToBook: "Continuar o agendamento",
};

/** Keyed as the notification templates are: exact locale first, then the language. */
const TEXTS: Record<string, WidgetTexts> = { en, es, "pt-BR": ptBR, pt: ptBR };

/** The texts for the visitor's locale (`data-locale`, else the business's), English when there are none. */
export function widgetTexts(locale: string | undefined, businessLocale: string | undefined): WidgetTexts {
  for (const l of localeChain(locale ?? businessLocale ?? "en", businessLocale ?? "en")) {
    const texts = TEXTS[l];
    if (texts) return texts;
  }
  return en;
}
